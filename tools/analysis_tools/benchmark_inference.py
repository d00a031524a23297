"""Inference speed of the 1-bit CPU engine beside PyTorch, per layer and
end to end.

    python tools/analysis_tools/benchmark_inference.py [--shape 480 640]
        [--threads 1 2] [--repeat 7] [--skip-layers] [--skip-models]
        [--json OUT]

Batch 1. For each thread count (PyTorch's intra-op threads and the engine's
own threads are set to the same number):

- per layer, the binary 3x3 convs of a ResNet-18 at output stride 8 (stage
  ``i`` at its resolution): PyTorch FP32 conv (NCHW and channels_last),
  bf16 conv (channels_last, where the CPU has AVX512-BF16 / AMX), int8 conv
  (``torch.ao`` quantized, fbgemm, on an already quantized input), the
  fake-quantized BNN layer (``BinaryConv2d`` + BN + shortcut + Hardtanh in
  PyTorch) and the engine layer (sign + pack + XNOR-popcount conv + BN +
  shortcut + Hardtanh in one call);
- end to end: the IR-Net and Bi-Real ResNet-18 backbones (output stride 8,
  as in ``configs/nyudv2``) and the IR-Net DeepLabV3 segmentor: FP32 twin
  (``binarizer=None``, NCHW and channels_last), fake-quantized BNN, engine;
  for the engine segmentor the share of the FP parts (stem, decode head) is
  reported;
- memory: parameter + buffer bytes of the engine model beside its FP32
  twin's.

Candidates are interleaved run by run (so a change of machine load hits
them alike) and the medians are printed, in ms.
"""
import argparse
import copy
import importlib.util
import json
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, ROOT)

import cmim_dense  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch import nn  # noqa: E402

from cmim_dense import ops  # noqa: E402
from cmim_dense.deploy import EngineConv2d, convert_to_engine  # noqa: E402
from cmim_dense.models.layers import BinaryConv2d  # noqa: E402

CL = torch.channels_last
SEG_CONFIG = ('configs/nyudv2/'
              'deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py')
BACKBONES = {
    'IR-Net ResNet-18 d8': dict(type='IRNetResNet', depth=18),
    'Bi-Real ResNet-18 d8': dict(type='BiRealResNet', depth=18),
}
# (name, channels, output stride, dilation) of the OS-8 ResNet-18's 3x3 convs,
# and stage 3 undilated (PyTorch's dilated FP convs are slower than plain)
LAYERS = [('layer1 3x3 64', 64, 4, 1), ('layer2 3x3 128', 128, 8, 1),
          ('layer3 3x3 256', 256, 8, 1), ('layer3 3x3 256', 256, 8, 2),
          ('layer4 3x3 512', 512, 8, 4)]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shape', type=int, nargs=2, default=[480, 640])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--skip-layers', action='store_true')
    parser.add_argument('--skip-models', action='store_true')
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(t < 1 for t in args.threads):
        parser.error('--repeat and --threads must be positive')
    return args


def interleaved(fns: Dict[str, Callable[[], object]], repeat: int,
                warmup: int) -> Dict[str, float]:
    """Median ms of each function, timed in turns."""
    times: Dict[str, List[float]] = {k: [] for k in fns}
    with torch.no_grad():
        for i in range(warmup + repeat):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                if i >= warmup:
                    times[name].append((time.perf_counter() - start) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def bf16_supported() -> bool:
    flags = open('/proc/cpuinfo').read() if osp.exists('/proc/cpuinfo') \
        else ''
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def int8_conv(conv: nn.Conv2d, x: torch.Tensor):
    """A fbgemm int8 conv and its quantized input, or None."""
    try:
        from torch.ao.nn.quantized import Conv2d as QConv2d
        torch.backends.quantized.engine = 'fbgemm'
        qconv = QConv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            bias=False)
        w = torch.quantize_per_channel(
            conv.weight.detach(),
            conv.weight.detach().abs().amax((1, 2, 3)) / 127,
            torch.zeros(conv.out_channels, dtype=torch.long), 0, torch.qint8)
        qconv.set_weight_bias(w, None)
        qconv.scale, qconv.zero_point = 0.05, 128
        qx = torch.quantize_per_tensor(
            x.contiguous(memory_format=CL), 0.05, 128, torch.quint8)
        qconv(qx)
        return qconv, qx
    except (RuntimeError, ImportError, AttributeError):
        return None


def layer_candidates(channels: int, h: int, w: int, dilation: int):
    x = torch.randn(1, channels, h, w)
    x_cl = x.contiguous(memory_format=CL)
    fp = nn.Conv2d(
        channels, channels, 3, 1, dilation, dilation, bias=False).eval()
    fp_cl = copy.deepcopy(fp).to(memory_format=CL)
    binary = BinaryConv2d(
        channels,
        channels,
        3,
        1,
        dilation,
        dilation,
        bias=False,
        binarizer='irnet').eval()
    bn, act = nn.BatchNorm2d(channels).eval(), nn.Hardtanh()
    engine = EngineConv2d.from_binary_conv(binary)
    engine.fuse_bn(bn)
    engine.fuse_act(act)
    fns = {
        'fp32 conv (NCHW)': lambda: fp(x),
        'fp32 conv (channels_last)': lambda: fp_cl(x_cl),
    }
    if bf16_supported():
        fp_bf = copy.deepcopy(fp_cl).to(torch.bfloat16)
        x_bf = x_cl.to(torch.bfloat16)
        fns['bf16 conv (channels_last)'] = lambda: fp_bf(x_bf)
    q = int8_conv(fp, x)
    if q is not None:
        qconv, qx = q
        fns['int8 conv (fbgemm)'] = lambda: qconv(qx)
    fns['BNN fake-quant layer'] = lambda: act(bn(binary(x)) + x)
    fns['engine layer'] = lambda: engine(x_cl, x_cl)
    return fns


def build(cfg: dict) -> nn.Module:
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(cfg).eval()


def model_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size()
               for t in list(model.parameters()) + list(model.buffers()))


def model_candidates(name: str, cfg: dict, shape: List[int]):
    binary = build(cfg)
    fp_cfg = copy.deepcopy(cfg)
    if 'backbone' in fp_cfg:
        fp_cfg['backbone']['binarizer'] = None
        if 'conv_cfg' in fp_cfg.get('decode_head', {}):
            fp_cfg['decode_head']['conv_cfg'] = None
    else:
        fp_cfg['binarizer'] = None
    fp = build(fp_cfg)
    fp_cl = copy.deepcopy(fp).to(memory_format=CL)
    engine = copy.deepcopy(binary)
    convert_to_engine(engine)
    x = torch.randn(1, 3, *shape)
    x_cl = x.contiguous(memory_format=CL)
    is_segmentor = 'backbone' in cfg

    def call(model, inputs):
        if is_segmentor:
            return lambda: model(inputs, mode='tensor')
        return lambda: model(inputs)

    fns = {
        'fp32 (NCHW)': call(fp, x),
        'fp32 (channels_last)': call(fp_cl, x_cl),
        'BNN fake-quant': call(binary, x),
        'engine': call(engine, x),
    }
    extra = {}
    if is_segmentor:
        backbone = engine.backbone
        fns['engine: backbone'] = lambda: backbone(x_cl)
        fns['engine: stem (FP)'] = lambda: backbone.maxpool(
            backbone.stem_act(backbone.bn1(backbone.conv1(x_cl))))
    extra['bytes'] = dict(fp32=model_bytes(fp), engine=model_bytes(engine))
    return fns, extra


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    h, w = args.shape
    results: Dict[str, dict] = {}
    cpu = 'unknown CPU'
    if osp.exists('/proc/cpuinfo'):
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    print(f'# {cpu}, engine kernels: {ops.engine_isa()}, input {h}x{w}, '
          f'batch 1, median of {args.repeat} interleaved runs (ms)')
    for threads in args.threads:
        torch.set_num_threads(threads)
        ops.set_num_threads(threads)
        res = results.setdefault(f'{threads} thread(s)', {})
        if not args.skip_layers:
            for name, channels, stride, dilation in LAYERS:
                ms = interleaved(
                    layer_candidates(channels, h // stride, w // stride,
                                     dilation), args.repeat, args.warmup)
                res[f'{name} @{h // stride}x{w // stride} d{dilation}'] = ms
        if not args.skip_models:
            cases = dict(BACKBONES)
            cases['IR-Net DeepLabV3 d8 (seg)'] = Config.fromfile(
                osp.join(ROOT, SEG_CONFIG)).model.to_dict()
            for name, cfg in cases.items():
                fns, extra = model_candidates(name, cfg, args.shape)
                ms = interleaved(fns, max(3, args.repeat // 2), args.warmup)
                res[name] = dict(ms, **extra)
        print(f'\n## {threads} thread(s)\n')
        print('| case | candidate | ms | vs fp32 NCHW | vs best fp32 |')
        print('|---|---|---|---|---|')
        for case, ms in res.items():
            fp_keys = [k for k in ms if k.startswith('fp32')]
            best = min(ms[k] for k in fp_keys)
            for cand, value in ms.items():
                if cand == 'bytes':
                    continue
                ref = ms[fp_keys[0]]
                if cand.startswith('engine: '):  # a part, not a twin
                    print(f'| {case} | {cand} | {value:.2f} | | |')
                    continue
                print(f'| {case} | {cand} | {value:.2f} | '
                      f'{ref / value:.2f}x | {best / value:.2f}x |')
            if 'bytes' in ms:
                b = ms['bytes']
                print(f'| {case} | params+buffers | fp32 '
                      f'{b["fp32"] / 2**20:.2f} MiB, engine '
                      f'{b["engine"] / 2**20:.2f} MiB | '
                      f'{b["fp32"] / b["engine"]:.1f}x smaller | |')
            if 'engine: backbone' in ms:
                fp_share = (ms['engine'] - ms['engine: backbone'] +
                            ms['engine: stem (FP)']) / ms['engine']
                print(f'| {case} | FP share of the engine model (stem + '
                      f'heads) | {fp_share:.0%} | | |')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(cpu=cpu, isa=ops.engine_isa(), results=results),
                f,
                indent=1)
    return results


if __name__ == '__main__':
    main()
