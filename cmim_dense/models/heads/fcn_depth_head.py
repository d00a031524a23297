"""Light FCN-style depth head."""
import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .base_depth_head import BaseDepthHead


@MODELS.register_module()
class FCNDepthHead(BaseDepthHead):
    """A stack of ``num_convs`` conv-norm-act blocks and an FP regressor.

    The depth counterpart of mmseg's ``FCNHead``: ``num_convs`` ConvModules
    (built with ``conv_cfg``, hence binarizable by config), optionally a
    ``conv_cat`` fusing the input with their output, then ``conv_depth``.
    Use ``input_transform='resize_concat'`` with several ``in_index`` to
    regress from several stages.

    Args:
        num_convs (int): Number of inner convs (>= 0; 0 needs
            ``in_channels == channels``). Defaults to 2.
        kernel_size (int): Kernel size of the inner convs. Defaults to 3.
        concat_input (bool): Concatenate the input with the convs' output
            before the regressor. Defaults to False.
        dilation (int): Dilation of the inner convs. Defaults to 1.
        **kwargs: :class:`BaseDepthHead` arguments.
    """

    def __init__(self,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 concat_input: bool = False,
                 dilation: int = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if num_convs < 0 or dilation < 1 or kernel_size < 1:
            raise ValueError('FCNDepthHead: need num_convs >= 0, '
                             'kernel_size >= 1 and dilation >= 1, got '
                             f'{num_convs}, {kernel_size}, {dilation}')
        if num_convs == 0 and self.in_channels != self.channels:
            raise ValueError('FCNDepthHead: num_convs=0 needs in_channels '
                             f'({self.in_channels}) == channels '
                             f'({self.channels})')
        self.num_convs = num_convs
        self.kernel_size = kernel_size
        self.concat_input = concat_input
        self.dilation = dilation
        padding = (kernel_size // 2) * dilation
        convs = []
        for i in range(num_convs):
            convs.append(
                ConvModule(
                    self.in_channels if i == 0 else self.channels,
                    self.channels,
                    kernel_size,
                    padding=padding,
                    dilation=dilation,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg))
        self.convs = nn.Sequential(*convs) if convs else nn.Identity()
        if concat_input:
            self.conv_cat = ConvModule(
                self.in_channels + self.channels,
                self.channels,
                kernel_size,
                padding=kernel_size // 2,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)
        if num_convs >= 2 or (concat_input and num_convs >= 1):
            self._check_binary_chain()

    def forward(self, inputs) -> Tensor:
        """Depth (N, 1, h, w) in metres from multi-level features."""
        x = self._transform_inputs(inputs)
        feat = self.convs(x)
        if self.concat_input:
            feat = self.conv_cat(torch.cat([x, feat], dim=1))
        return self.regress_depth(feat)
