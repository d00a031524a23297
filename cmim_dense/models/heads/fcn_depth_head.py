"""FCN depth head: mmseg's ``FCNHead`` with a depth regressor."""
from mmseg.models.decode_heads.fcn_head import FCNHead

from cmim_dense.registry import MODELS
from .depth_regression_mixin import DepthRegressionMixin


@MODELS.register_module()
class FCNDepthHead(DepthRegressionMixin, FCNHead):
    """mmseg's ``FCNHead`` regressing depth (see :class:`DepthRegressionMixin`).

    ``num_convs`` ConvModules (built with ``conv_cfg``, hence binarizable by
    config), optionally ``conv_cat`` fusing the input with their output,
    then the FP regressor ``conv_depth``. Use
    ``input_transform='resize_concat'`` with several ``in_index`` to regress
    from several stages. What differs from ``FCNHead`` besides the
    regressor: ``concat_input`` defaults to False, and bad arguments raise a
    ``ValueError`` naming them instead of an ``assert``.

    Args:
        num_convs (int): Number of inner convs (>= 0; 0 needs
            ``in_channels == channels``). Defaults to 2.
        kernel_size (int): Kernel size of the inner convs. Defaults to 3.
        concat_input (bool): Concatenate the input with the convs' output
            before the regressor. Defaults to False.
        dilation (int): Dilation of the inner convs. Defaults to 1.
        **kwargs: :class:`DepthRegressionMixin` and ``BaseDecodeHead``
            arguments.
    """

    def __init__(self,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 concat_input: bool = False,
                 dilation: int = 1,
                 **kwargs) -> None:
        if num_convs < 0 or dilation < 1 or kernel_size < 1:
            raise ValueError('FCNDepthHead: need num_convs >= 0, '
                             'kernel_size >= 1 and dilation >= 1, got '
                             f'{num_convs}, {kernel_size}, {dilation}')
        in_channels, channels = kwargs.get('in_channels'), kwargs.get(
            'channels')
        if num_convs == 0 and isinstance(in_channels, int) and \
                in_channels != channels:
            raise ValueError('FCNDepthHead: num_convs=0 needs in_channels '
                             f'({in_channels}) == channels ({channels})')
        super().__init__(
            num_convs=num_convs,
            kernel_size=kernel_size,
            concat_input=concat_input,
            dilation=int(dilation),
            **kwargs)
        self.dilation = int(dilation)
        if num_convs >= 2 or (concat_input and num_convs >= 1):
            self._check_binary_chain()
