"""Run a binary segmentor on one image with the 1-bit CPU engine.

    python tools/deploy/infer.py CONFIG PACKED IMAGE --out pred.png
        [--depth-out depth.png] [--threads N] [--pytorch]

``PACKED`` is the output of ``convert_engine.py`` (or ``pack_binary.py``);
plain and CMIM checkpoints load too. ``--out`` gets the predicted labels
(8-bit PNG, one class index per pixel), ``--depth-out`` the predicted depth
(16-bit PNG in millimetres) of a model with a depth task. ``--pytorch``
runs the fake-quantized PyTorch model instead of the engine.
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cmim_dense.deploy import load_deploy_model, predict_image  # noqa: E402
from cmim_dense.ops import engine_isa, set_num_threads  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict one image with the 1-bit CPU engine')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='packed (or plain/CMIM) .pth')
    parser.add_argument('image', help='input image (any format cv2 reads)')
    parser.add_argument('--out', help='predicted labels (PNG)')
    parser.add_argument('--depth-out', help='predicted depth (16-bit PNG, mm)')
    parser.add_argument(
        '--threads', type=int, help='threads (default: torch\'s)')
    parser.add_argument(
        '--pytorch',
        action='store_true',
        help='run the fake-quantized PyTorch model instead of the engine')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, np.ndarray]:
    args = parse_args(argv)
    image = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f'{args.image}: cannot read the image')
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit(f'--threads must be positive, got {args.threads}')
        torch.set_num_threads(args.threads)
        set_num_threads(args.threads)
    model = load_deploy_model(
        args.config, args.checkpoint, engine=not args.pytorch)
    start = time.perf_counter()
    pred = predict_image(model, image)
    seconds = time.perf_counter() - start
    backend = 'pytorch' if args.pytorch else f'engine ({engine_isa()})'
    print(f'{args.image}: {image.shape[1]}x{image.shape[0]} in '
          f'{seconds * 1e3:.1f} ms on {backend}')
    if args.out:
        if 'seg' not in pred:
            raise SystemExit('--out: the model predicts no segmentation')
        cv2.imwrite(args.out, pred['seg'].astype(np.uint8))
        print(f'labels -> {args.out}')
    if args.depth_out:
        if 'depth' not in pred:
            raise SystemExit('--depth-out: the model predicts no depth')
        depth_mm = np.clip(pred['depth'] * 1000, 0, 65535).round()
        cv2.imwrite(args.depth_out, depth_mm.astype(np.uint16))
        print(f'depth -> {args.depth_out}')
    return pred


if __name__ == '__main__':
    main()
