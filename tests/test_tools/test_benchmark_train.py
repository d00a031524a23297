"""benchmark_train.py --suite runs at a tiny size and writes its keys."""
import importlib.util
import json
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / \
    'benchmark_train.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('benchmark_train', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_suite_tiny_writes_json(tmp_path):
    out = tmp_path / 'bench.json'
    report = load_tool().main([
        '--suite', '--batch-size', '2', '--shape', '32', '32', '--iters', '2',
        '--warmup', '0', '--json',
        str(out)
    ])
    data = json.loads(out.read_text())
    for key in ('bnn_over_fp', 'cmim_overhead', 'cmim_teacher_overhead',
                'cmim_pixel_overhead', 'data_fps', 'candidates', 'batch_size',
                'shape', 'device'):
        assert key in data, key
    assert set(data['candidates']) == {
        'fp', 'bnn', 'bnn_cmim', 'bnn_cmim_teacher', 'bnn_cmim_pixel'
    }
    for result in data['candidates'].values():
        assert len(result['times_s']) == 2 and result['median_s'] > 0
    bnn, fp = data['candidates']['bnn'], data['candidates']['fp']
    assert data['bnn_over_fp'] == bnn['median_s'] / fp['median_s']
    assert data['data_fps'] > 0
    assert report['cmim_overhead'] == data['cmim_overhead']
    teacher = data['candidates']['bnn_cmim_teacher']['median_s']
    assert data['cmim_teacher_overhead'] == teacher / bnn['median_s']


def test_teacher_candidate_gets_a_stand_in_checkpoint(tmp_path):
    """A teacher config without its checkpoint is timed with an untrained
    teacher; the memory probe (a fresh process) gets the same options."""
    tool = load_tool()
    config = str(
        TOOL.parents[2] / 'configs' / 'nyudv2' /
        'deeplabv3_irnet-r18-d8_cmim-teacher_adam-40k_nyudv2-480x640-seg.py')
    options = tool.stand_in_teacher(config, {}, str(tmp_path))
    assert Path(options['model.teacher.checkpoint']).is_file()
    assert tool.stand_in_teacher(config, options,
                                 str(tmp_path)) == options  # exists: kept
    args = tool.parse_args(
        ['--suite', '--batch-size', '2', '--shape', '32', '32'])
    assert tool.measure_memory(config, args, options) > 0


def test_memory_probe_reports_peak():
    """The probe runs in a fresh process, as ``--memory`` runs it."""
    tool = load_tool()
    config = TOOL.parents[2] / 'configs' / 'nyudv2' / \
        'deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py'
    args = tool.parse_args(
        ['--suite', '--batch-size', '2', '--shape', '32', '32'])
    peak = tool.measure_memory(str(config), args)
    assert peak > 0


def test_suite_candidates_step_with_the_tools_sgd():
    """The suite's leaves are full training configs; their candidates still
    step with the tool's SGD (the protocol's guarded Adam is dropped)."""
    tool = load_tool()
    args = tool.parse_args(
        ['--suite', '--batch-size', '1', '--shape', '32', '32'])
    seen = {}
    tool._run = lambda args, configs, options: seen.update(
        configs=configs, options=options)
    tool.run(args)
    assert set(seen['configs']) == set(tool.SUITE)
    assert all(Path(c).is_file() for c in seen['configs'].values())
    assert all(o['optim_wrapper'] is None for o in seen['options'].values())
    bnn = tool.Candidate('bnn', seen['configs']['bnn'], args,
                         seen['options']['bnn'])
    assert type(bnn.optim_wrapper.optimizer).__name__ == 'SGD'
