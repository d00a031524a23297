"""Install script.

Everything static lives in ``setup.cfg``. Only the mmcv requirement is chosen
here: ``mmcv-lite==2.1.0`` (pure Python, no compiled ops) by default, or the
full ``mmcv==2.1.0`` when ``CMIM_DENSE_MMCV=full`` is set, so that users who
built mmcv with its CUDA/C++ ops do not get mmcv-lite installed over it.
"""
import configparser
import os
import os.path as osp

from setuptools import setup

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


if __name__ == '__main__':
    setup(install_requires=install_requires())
