"""Deployment on the 1-bit CPU engine (:mod:`cmim_dense.ops`).

:func:`convert_to_engine` turns a trained binary model into an inference
model whose binary convs run the XNOR-popcount engine;
:func:`load_deploy_model` builds one from a config and a plain, CMIM or
packed checkpoint.
"""
from .converter import convert_to_engine, register_engine_converter
from .engine_conv import EngineConv2d, UnsupportedLayerError
from .inference import predict_image
from .loading import load_deploy_model, load_weights

__all__ = [
    'EngineConv2d', 'UnsupportedLayerError', 'convert_to_engine',
    'load_deploy_model', 'load_weights', 'predict_image',
    'register_engine_converter'
]
