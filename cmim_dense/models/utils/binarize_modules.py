"""Turn selected layers of an FP model into binary layers, in place."""
from fnmatch import fnmatchcase
from typing import List, Sequence, Union

from torch import nn

from ..layers import BinaryConv2d, BinaryLinear

# Final predictors stay FP by default (BNN convention): mmseg decode heads'
# classifier, depth regressors, torchvision/timm classifiers.
DEFAULT_KEEP_FP = ('*conv_seg', '*conv_depth', '*fc', '*classifier',
                   '*classifier.*')


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(name, p) for p in patterns)


def binarize_modules(model: nn.Module,
                     binarizer: Union[str, dict],
                     include: Sequence[str] = ('*', ),
                     exclude: Sequence[str] = DEFAULT_KEEP_FP,
                     keep_first_conv: bool = True,
                     convert_linear: bool = False,
                     **layer_kwargs) -> List[str]:
    """Replace FP ``nn.Conv2d`` (and optionally ``nn.Linear``) layers in place.

    Each selected layer becomes a :class:`BinaryConv2d` / :class:`BinaryLinear`
    sharing its weight and bias tensors, so state-dict keys are unchanged
    (the binary layer only adds its quantizers' entries). Only layers whose
    type is exactly ``nn.Conv2d`` / ``nn.Linear`` are converted (subclasses
    with their own forward are left alone).

    Args:
        model (nn.Module): Model to convert, in place.
        binarizer (str | dict): Named method for every converted layer.
        include (Sequence[str]): Glob patterns on dotted module names
            (``'backbone.layer*'``); a layer must match one. Defaults to all.
        exclude (Sequence[str]): Patterns of layers kept FP. Defaults to the
            final predictors (:data:`DEFAULT_KEEP_FP`).
        keep_first_conv (bool): Keep the first conv (in registration order:
            the stem) FP. Defaults to True.
        convert_linear (bool): Convert ``nn.Linear`` too. Defaults to False.
        **layer_kwargs: Passed to the binary layers (roles; ``pad_value``
            goes to the convs only).

    Returns:
        list[str]: Names of the converted layers, in order.

    Raises:
        ValueError: If ``include`` matches no convertible layer.
    """
    targets = {nn.Conv2d: BinaryConv2d}
    if convert_linear:
        targets[nn.Linear] = BinaryLinear
    candidates = [(name, module) for name, module in model.named_modules()
                  if type(module) in targets]
    if keep_first_conv:
        first = next((name for name, m in candidates if type(m) is nn.Conv2d),
                     None)
        candidates = [(n, m) for n, m in candidates if n != first]
    selected = [(n, m) for n, m in candidates
                if _matches(n, include) and not _matches(n, exclude)]
    if not selected:
        raise ValueError(f'binarize_modules: no convertible layer matches '
                         f'include={list(include)} (excluding '
                         f'{list(exclude)}); candidates: '
                         f'{[n for n, _ in candidates][:20]}')
    # build every binary layer first: a bad option leaves the model unchanged
    replacements = []
    for name, module in selected:
        target = targets[type(module)]
        kwargs = dict(layer_kwargs)
        if target is BinaryLinear:
            kwargs.pop('pad_value', None)  # a conv-only option
        replacements.append(
            (name, target.from_float(module, binarizer=binarizer, **kwargs)))
    for name, binary in replacements:
        parent_name, _, attr = name.rpartition('.')
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, binary)
    return [n for n, _ in selected]
