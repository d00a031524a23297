"""Deployment on the 1-bit CPU engine (:mod:`cmim_dense.ops`).

:func:`convert_to_engine` turns a trained binary model into an inference
model whose binary convs run the XNOR-popcount engine;
:func:`load_deploy_model` builds one from a config and a plain, CMIM or
packed checkpoint.
"""
from .converter import (ENGINE_CONVERTERS, convert_to_engine,
                        register_engine_converter)
from .engine_blocks import EngineBasicBlock, EngineReActBlock
from .engine_conv import EngineConv2d, UnsupportedLayerError, act_spec
from .inference import predict_image
from .loading import load_deploy_model, load_weights

__all__ = [
    'ENGINE_CONVERTERS', 'EngineBasicBlock', 'EngineConv2d',
    'EngineReActBlock', 'UnsupportedLayerError', 'act_spec',
    'convert_to_engine', 'load_deploy_model', 'load_weights', 'predict_image',
    'register_engine_converter'
]
