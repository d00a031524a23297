"""Time training steps of several configs in one process.

    python tools/analysis_tools/benchmark_train.py CONFIG [CONFIG ...]
        [--batch-size 8] [--shape 240 320] [--iters 10] [--warmup 2]
        [--device cpu] [--memory] [--json OUT]
    python tools/analysis_tools/benchmark_train.py --suite [...]

Each candidate runs the real ``model.train_step`` (data preprocessor, loss,
backward, optimizer step) on a synthetic batch (random images, labels and
depth). Candidates are interleaved step by step, so a change of machine
load hits all of them alike, and the medians are reported with their ratio
to the first candidate. ``--memory`` measures each candidate's peak memory
of training steps in a fresh subprocess (CUDA: peak allocated; CPU: peak
resident set minus the libraries' resident set before the model is built).

``--suite`` runs the standard comparison on DeepLabV3 / ResNet-18 at output
stride 8, the models of the segmentation leaves of ``configs/nyudv2/``
(stepped with the tool's SGD, not their guarded Adam): FP ResNet-18, IR-Net
ResNet-18 and IR-Net ResNet-18 + CMIM in its in-batch (latent, pooled) form,
its FP-teacher form and its pixel form (the same BNN wrapped by ``CMIM``),
and reports ``bnn_over_fp``,
``cmim_overhead``, ``cmim_teacher_overhead`` and ``cmim_pixel_overhead``
(BNN + CMIM step time over BNN step time; with ``--memory`` also the
``*_memory_overhead`` ratios of peak memory) and ``data_fps``: frames per
second of the NYUD-v2 train pipeline (official ``.mat`` layout, a synthetic
twin of the benchmark's frame size, resize / crop / flip / photometric
augmentation) in this process, i.e. one worker.

A CMIM FP-teacher config whose teacher checkpoint does not exist gets an
untrained teacher of its teacher config, written to a temporary file (the
step time does not depend on the teacher's weights); a note says so.
``--cfg-options`` overrides every candidate's config.
"""
import argparse
import importlib.util
import json
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, ROOT)

import cmim_dense  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

from cmim_dense.models.utils import drop_checkpoint_inits  # noqa: E402

SUITE_DIR = osp.join(ROOT, 'configs', 'nyudv2')
_SEG = '_adam-40k_nyudv2-480x640-seg.py'  # the segmentation protocol's leaves
SUITE = dict(
    fp='deeplabv3_fp-r18-d8' + _SEG,
    bnn='deeplabv3_irnet-r18-d8' + _SEG,
    bnn_cmim='deeplabv3_irnet-r18-d8_cmim' + _SEG,
    bnn_cmim_teacher='deeplabv3_irnet-r18-d8_cmim-teacher' + _SEG,
    bnn_cmim_pixel='deeplabv3_irnet-r18-d8_cmim-pixel' + _SEG)
#: options of every suite candidate (before ``--cfg-options``): the step's
#: optimizer is the tool's plain SGD, not the protocol's guarded Adam, so that
#: the suite times the model alone, as its figures in docs/benchmarks.md do
SUITE_OPTIONS = dict(optim_wrapper=None)
#: summary key -> the suite candidate compared with ``bnn``
OVERHEADS = dict(
    cmim_overhead='bnn_cmim',
    cmim_teacher_overhead='bnn_cmim_teacher',
    cmim_pixel_overhead='bnn_cmim_pixel')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark training steps')
    parser.add_argument('configs', nargs='*', help='configs to compare')
    parser.add_argument(
        '--suite', action='store_true', help='FP vs BNN vs BNN + CMIM')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[240, 320], metavar=('H', 'W'))
    parser.add_argument('--iters', type=int, default=10, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--memory', action='store_true', help='measure peak memory too')
    parser.add_argument('--json', help='write the results here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override settings of every config, KEY=VALUE')
    parser.add_argument('--memory-probe', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.configs and not args.suite and not args.memory_probe:
        parser.error('give CONFIGs or --suite')
    return args


def synthetic_batch(batch_size: int,
                    shape: List[int],
                    num_classes: int,
                    seed: int = 0) -> dict:
    """Random uint8-range images with labels, depth and ``sample_idx``."""
    gen = torch.Generator().manual_seed(seed)
    h, w = shape
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen).float())
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w), generator=gen))
        sample.gt_depth_map = PixelData(
            data=torch.rand(1, h, w, generator=gen) * 9.5 + 0.5)
        sample.set_metainfo(
            dict(
                img_shape=(h, w),
                ori_shape=(h, w),
                pad_shape=(h, w),
                sample_idx=i))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _num_classes(model_cfg) -> int:
    cfg = model_cfg.get('architecture', model_cfg)
    head = cfg.get('decode_head') or {}
    return int(head.get('num_classes', 2))


def stand_in_teacher(config: str, options: dict, folder: str) -> dict:
    """Options giving a CMIM teacher config a teacher checkpoint.

    Args:
        config (str): A config.
        options (dict): The ``--cfg-options``.
        folder (str): Where to write an untrained teacher's checkpoint.

    Returns:
        dict: ``options``, plus ``model.teacher.checkpoint`` (an untrained
        teacher of the teacher config) when the config has a teacher whose
        checkpoint does not exist.
    """
    from cmim_dense.models.algorithms.fp_teacher import teacher_model_config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    teacher = cfg.model.get('teacher') if cfg.model.get(
        'type') == 'CMIM' else None
    if not teacher or osp.isfile(str(teacher.get('checkpoint'))):
        return options
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(teacher_model_config(teacher.config))
    path = osp.join(folder, f'teacher_{osp.basename(config)}.pth')
    torch.save(model.state_dict(), path)
    print(f'note: {osp.basename(config)}: teacher checkpoint '
          f'{teacher.get("checkpoint")!r} not found; timing with an '
          f'untrained teacher ({path})')
    return {**options, 'model.teacher.checkpoint': path}


class Candidate:
    """One config, built and ready to step."""

    def __init__(self,
                 name: str,
                 config: str,
                 args: argparse.Namespace,
                 options: Optional[dict] = None):
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(options or {})
        # speed and memory do not depend on the weights: no ImageNet files
        drop_checkpoint_inits(cfg.model)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        self.name, self.config = name, config
        torch.manual_seed(0)
        self.model = MODELS.build(cfg.model).to(args.device)
        self.model.init_weights()
        self.model.train()
        optim = cfg.get('optim_wrapper') or dict(
            optimizer=dict(type='SGD', lr=1e-4, momentum=0.9))
        self.optim_wrapper = build_optim_wrapper(self.model, optim)
        self.batch = synthetic_batch(args.batch_size, args.shape,
                                     _num_classes(cfg.model))
        self.device = args.device
        self.times: List[float] = []

    def step(self) -> float:
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        self.model.train_step(self.batch, self.optim_wrapper)
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()
        return time.perf_counter() - start


def _status_bytes(field: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in bytes.

    ``VmHWM`` is the peak resident set of this address space; unlike
    ``getrusage``'s ``ru_maxrss`` it is not inherited from the parent
    across ``exec``.
    """
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _reset_peak_rss() -> None:
    """Reset ``VmHWM`` to the current resident set (Linux >= 4.0)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def memory_probe(args: argparse.Namespace) -> None:
    """Subprocess mode: print the peak memory of training steps as JSON.

    CUDA: peak allocated bytes over two steps (after one warm-up step).
    CPU: peak resident set minus the resident set before the model was
    built (the libraries), i.e. model, optimizer state and a step's
    activations.
    """
    base = _status_bytes('VmRSS')
    candidate = Candidate('probe', args.memory_probe, args, args.cfg_options)
    candidate.step()  # allocator warm-up, optimizer state
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    else:
        _reset_peak_rss()
    for _ in range(2):
        candidate.step()
    if args.device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = _status_bytes('VmHWM') - base
    print(json.dumps(dict(peak_bytes=peak)))


def measure_memory(config: str,
                   args: argparse.Namespace,
                   options: Optional[dict] = None) -> int:
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--memory-probe', config, '--batch-size',
        str(args.batch_size), '--shape', *map(str, args.shape), '--device',
        args.device
    ]
    if options:
        cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])['peak_bytes']


def run(args: argparse.Namespace) -> Dict[str, dict]:
    """Benchmark the candidates; return per-candidate results."""
    if args.suite:
        configs = {k: osp.join(SUITE_DIR, v) for k, v in SUITE.items()}
        cfg_options = {**SUITE_OPTIONS, **args.cfg_options}
    else:
        configs = {osp.splitext(osp.basename(c))[0]: c for c in args.configs}
        cfg_options = args.cfg_options
    with tempfile.TemporaryDirectory() as folder:
        options = {
            n: stand_in_teacher(c, cfg_options, folder)
            for n, c in configs.items()
        }
        return _run(args, configs, options)


def _run(args: argparse.Namespace, configs: Dict[str, str],
         options: Dict[str, dict]) -> Dict[str, dict]:
    candidates = [
        Candidate(n, c, args, options[n]) for n, c in configs.items()
    ]
    for _ in range(args.warmup):
        for cand in candidates:
            cand.step()
    for _ in range(args.iters):
        for cand in candidates:
            cand.times.append(cand.step())
    results = {}
    reference = statistics.median(candidates[0].times)
    for cand in candidates:
        median = statistics.median(cand.times)
        results[cand.name] = dict(
            config=cand.config,
            median_s=median,
            min_s=min(cand.times),
            ratio=median / reference,
            times_s=cand.times)
    if args.memory:
        for name, config in configs.items():
            results[name]['peak_memory_bytes'] = measure_memory(
                config, args, options[name])
    return results


def data_pipeline_fps(shape: List[int], frames: int = 24) -> float:
    """Train-pipeline frames/s on a synthetic twin of frame size ``shape``."""
    from cmim_dense.datasets import generate_synthetic_nyudv2
    from mmseg.registry import DATASETS
    h, w = shape
    pipeline = [
        dict(type='LoadNYUDv2Image'),
        dict(type='LoadNYUDv2Annotations'),
        dict(
            type='RandomResize',
            scale=(w, h),
            ratio_range=(0.5, 2.0),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(h, w), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(
            type='PackSegInputs',
            meta_keys=('img_path', 'ori_shape', 'img_shape', 'pad_shape',
                       'scale_factor', 'flip', 'flip_direction',
                       'sample_idx')),
    ]
    with tempfile.TemporaryDirectory() as root:
        generate_synthetic_nyudv2(root, num_frames=8, height=h, width=w)
        dataset = DATASETS.build(
            dict(
                type='NYUDv2MatDataset',
                data_root=root,
                split=None,
                pipeline=pipeline))
        dataset[0]  # open the file, warm the pipeline
        start = time.perf_counter()
        for i in range(frames):
            dataset[i % len(dataset)]
        return frames / (time.perf_counter() - start)


def summary(results: Dict[str, dict], suite: bool) -> Dict[str, float]:
    """``bnn_over_fp`` and the CMIM forms' overheads over the BNN (time,
    and peak memory when measured) for the suite."""
    if not suite:
        return {}
    bnn = results['bnn']
    out = dict(bnn_over_fp=bnn['median_s'] / results['fp']['median_s'])
    for key, name in OVERHEADS.items():
        out[key] = results[name]['median_s'] / bnn['median_s']
        if 'peak_memory_bytes' in bnn:
            out[key.replace('_overhead', '_memory_overhead')] = (
                results[name]['peak_memory_bytes'] / bnn['peak_memory_bytes'])
    return out


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    # quiet: init_weights logs every parameter at INFO level
    MMLogger.get_instance('benchmark_train', log_level='WARNING')
    if args.memory_probe:
        memory_probe(args)
        return {}
    results = run(args)
    extra = summary(results, args.suite)
    if args.suite:
        extra['data_fps'] = data_pipeline_fps(args.shape)
    report = dict(
        batch_size=args.batch_size,
        shape=args.shape,
        iters=args.iters,
        device=args.device,
        threads=torch.get_num_threads(),
        candidates=results,
        **extra)
    print(f'batch {args.batch_size}, {args.shape[0]}x{args.shape[1]}, '
          f'{args.iters} timed steps each (interleaved), device '
          f'{args.device}, {torch.get_num_threads()} threads')
    for name, res in results.items():
        line = (f'{name:<28} median {res["median_s"]:.3f} s  min '
                f'{res["min_s"]:.3f} s  x{res["ratio"]:.3f}')
        if 'peak_memory_bytes' in res:
            line += f'  peak {res["peak_memory_bytes"] / 2**20:.0f} MiB'
        print(line)
    for key in ('bnn_over_fp', *[
            k for o in OVERHEADS
            for k in (o, o.replace('_overhead', '_memory_overhead'))
    ], 'data_fps'):
        if key in report:
            print(f'{key}: {report[key]:.3f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == '__main__':
    main()
