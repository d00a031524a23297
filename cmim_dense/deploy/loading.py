"""Build a deployable model from a config and a trained checkpoint."""
import copy
from itertools import product
from typing import Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

from cmim_dense.models.algorithms.cmim import (ARCHITECTURE_PREFIX,
                                               extract_architecture_state)
from cmim_dense.models.utils import (is_packed_checkpoint,
                                     load_packed_checkpoint)
from cmim_dense.models.utils.binary_packing import PACKING_KEY
from .converter import convert_to_engine


def load_weights(model: nn.Module,
                 checkpoint: Union[str, dict],
                 source: str = '<dict>') -> nn.Module:
    """Load a plain, CMIM or packed checkpoint into a built model.

    A CMIM model takes a CMIM checkpoint, or a plain/packed checkpoint of
    its ``architecture``; a plain model takes a plain/packed checkpoint or
    a CMIM checkpoint's ``architecture.*`` weights.

    Args:
        model (nn.Module): Built from the checkpoint's config.
        checkpoint (str | dict): Path (``weights_only`` load) or dict.
        source (str): Name for error messages when ``checkpoint`` is a dict.

    Returns:
        nn.Module: The module the weights went into (``model`` or its
        ``architecture``).

    Raises:
        ValueError: The checkpoint fits neither the model nor its
            ``architecture``.
    """
    if isinstance(checkpoint, str):
        source = checkpoint
        checkpoint = torch.load(
            checkpoint, map_location='cpu', weights_only=True)
    targets = [model]
    if isinstance(getattr(model, 'architecture', None), nn.Module):
        targets.append(model.architecture)
    errors = []
    if is_packed_checkpoint(checkpoint):
        candidates = [checkpoint]
        layers = checkpoint['meta'][PACKING_KEY]['layers']
        if layers and all(n.startswith(ARCHITECTURE_PREFIX) for n in layers):
            # packed from a CMIM model: its architecture's part
            meta = dict(checkpoint['meta'])
            meta[PACKING_KEY] = dict(
                meta[PACKING_KEY],
                layers=[n[len(ARCHITECTURE_PREFIX):] for n in layers])
            candidates.append(
                dict(
                    meta=meta,
                    state_dict=extract_architecture_state(
                        checkpoint['state_dict'])))
        for target, candidate in product(targets, candidates):
            try:
                load_packed_checkpoint(target, candidate)
                return target
            except (ValueError, RuntimeError, KeyError) as err:
                errors.append(f'{type(target).__name__}: {err}')
    else:
        state = checkpoint.get('state_dict', checkpoint)
        candidates = [state]
        if any(k.startswith(ARCHITECTURE_PREFIX) for k in state):
            candidates.append(extract_architecture_state(state))
        for target in targets:
            for candidate in candidates:
                try:
                    target.load_state_dict(candidate, strict=True)
                    return target
                except RuntimeError as err:
                    errors.append(f'{type(target).__name__}: {err}')
    raise ValueError(f'{source} does not fit the model built from the '
                     'config (tried the model and its architecture):\n' +
                     '\n'.join(e.splitlines()[0] for e in errors))


def load_deploy_model(config: Union[str, Config],
                      checkpoint: Union[str, dict],
                      engine: bool = True,
                      strict: bool = True) -> nn.Module:
    """The inference model of a trained checkpoint.

    Args:
        config (str | Config): The model's config (of a CMIM config, the
            ``architecture`` is built).
        checkpoint (str | dict): Plain, CMIM or packed checkpoint.
        engine (bool): Convert the binary layers to the 1-bit engine; False
            keeps the fake-quantized PyTorch model. Defaults to True.
        strict (bool): See :func:`~.converter.convert_to_engine`.

    Returns:
        nn.Module: The segmentor, in eval mode.
    """
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg.model.get('type') == 'CMIM':  # the wrapped model only
        cfg = copy.deepcopy(cfg)
        cfg.model = cfg.model.architecture
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    source = checkpoint if isinstance(checkpoint, str) else '<dict>'
    load_weights(model, checkpoint, source)
    model.eval()
    if engine:
        convert_to_engine(model, strict=strict)
    return model
