"""Install script.

Everything static lives in ``setup.cfg``. Only the mmcv requirement is chosen
here: ``mmcv-lite==2.1.0`` (pure Python, no compiled ops) by default, or the
full ``mmcv==2.1.0`` when ``CMIM_DENSE_MMCV=full`` is set, so that users who
built mmcv with its CUDA/C++ ops do not get mmcv-lite installed over it.

The 1-bit inference engine ``cmim_dense.ops._bitconv`` (``csrc/bitconv``) is
a plain C extension: it needs a C compiler and the Python headers, not torch
or numpy. It is optional: without a compiler the install still succeeds and
``cmim_dense.ops`` falls back to a pure-PyTorch path. The kernels are
compiled per instruction set with ``#pragma GCC target`` and chosen at run
time, so no ``-march`` flag is used and the build runs on any x86-64 CPU.
"""
import configparser
import os
import os.path as osp

import sys

from setuptools import Extension, setup

MMCV_VARIANTS = {'lite': 'mmcv-lite==2.1.0', 'full': 'mmcv==2.1.0'}


def install_requires() -> list:
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(osp.dirname(osp.abspath(__file__)), 'setup.cfg'))
    reqs = [
        line.strip()
        for line in cfg['options']['install_requires'].splitlines()
        if line.strip() and not line.strip().startswith('#')
    ]
    variant = os.environ.get('CMIM_DENSE_MMCV', 'lite')
    if variant not in MMCV_VARIANTS:
        raise SystemExit(f'CMIM_DENSE_MMCV must be one of '
                         f'{sorted(MMCV_VARIANTS)}, got {variant!r}')
    return reqs + [MMCV_VARIANTS[variant]]


def bitconv_extension() -> Extension:
    """The optional C extension of the binary convolution engine."""
    sources = [
        'csrc/bitconv/module.c', 'csrc/bitconv/threads.c',
        'csrc/bitconv/kernels_scalar.c', 'csrc/bitconv/kernels_popcnt.c',
        'csrc/bitconv/kernels_avx2.c', 'csrc/bitconv/kernels_avx512.c'
    ]
    args = [] if sys.platform == 'win32' else ['-O3', '-std=c11', '-pthread']
    return Extension(
        'cmim_dense.ops._bitconv',
        sources=sources,
        depends=['csrc/bitconv/bitconv.h', 'csrc/bitconv/impl.h'],
        extra_compile_args=args,
        extra_link_args=[] if sys.platform == 'win32' else ['-pthread'],
        optional=True)


if __name__ == '__main__':
    setup(
        install_requires=install_requires(), ext_modules=[bitconv_extension()])
