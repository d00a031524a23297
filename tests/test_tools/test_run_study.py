"""``tools/analysis_tools/run_study.py`` and ``cmim_dense.utils.study``.

The statistics are checked against values computed here by hand from
stored metric files; the bookkeeping (failures, resume, never redoing a
finished run) with a stand-in training script that needs no torch
(``tests/data/fake_study_train.py``); and one tiny real study (two
candidates, two seeds, two iterations of ``tests/data/configs/tiny_seg.py``)
runs end to end through ``tools/train.py``, is killed after its first run
and resumed.
"""
import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmim_dense.utils.study import (LaunchSettings, StudyConfigError,
                                    StudyRunner, load_study_config,
                                    paired_difference, summarize)
from cmim_dense.utils.study.cfg_options import (is_from_scratch,
                                                to_cfg_options_args)
from cmim_dense.utils.study.run_launcher import slot_env, train_command
from cmim_dense.utils.study.run_marker import read_marker
from cmim_dense.utils.study.run_metrics import (MetricsNotFoundError,
                                                final_and_best,
                                                validation_curve)
from cmim_dense.utils.study.run_plan import NEW, RESUME, plan_runs
from cmim_dense.utils.study.study_progress import StudyProgress
from cmim_dense.utils.study.study_runner import finish_run

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'analysis_tools' / 'run_study.py'
TINY_SEG = REPO / 'tests' / 'data' / 'configs' / 'tiny_seg.py'
FAKE_TRAIN = REPO / 'tests' / 'data' / 'fake_study_train.py'
#: t_{0.975} with 2 degrees of freedom (3 seeds), from a t table
T_975_DF2 = 4.302652729911275


def write_study(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def fake_study(tmp_path: Path, candidates: str, seeds='[0, 1]') -> Path:
    """A study of the stand-in trainer (its config is any existing file)."""
    return write_study(
        tmp_path / 'study.py', f"""
work_dir = {str(tmp_path / 'work')!r}
seeds = {seeds}
metrics = [dict(key='mIoU', direction='higher'),
           dict(key='rmse', direction='lower')]
_config = {str(TINY_SEG)!r}
candidates = {candidates}
""")


def fake_runner(study_file: Path, jobs: int = 1) -> StudyRunner:
    settings = LaunchSettings(train_script=str(FAKE_TRAIN))
    return StudyRunner(
        load_study_config(str(study_file)),
        settings,
        jobs=jobs,
        stream=io.StringIO())


def calls(run_dir: Path) -> list:
    path = run_dir / 'calls.jsonl'
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# ----------------------------------------------------------- statistics


def test_summary_is_mean_and_sample_std():
    s = summarize([1.0, 2.0, 4.0])
    # mean 7/3; squared deviations 16/9, 1/9, 25/9 sum to 42/9, / (n - 1)
    assert s.n == 3
    assert s.mean == pytest.approx(7 / 3)
    assert s.std == pytest.approx(math.sqrt(42 / 9 / 2))
    assert math.isnan(summarize([3.0]).std)
    assert summarize([3.0]).mean == 3.0


def test_paired_difference_is_the_paired_t_interval():
    # d = [1, 3, 2]: mean 2, s_d = 1; half width t * 1 / sqrt(3)
    diff = paired_difference({
        0: 41,
        1: 45,
        2: 49,
        7: 0.0
    }, {
        0: 40,
        1: 42,
        2: 47
    })
    assert diff.n == 3
    assert diff.mean == pytest.approx(2.0)
    assert diff.std == pytest.approx(1.0)
    assert diff.t_quantile == pytest.approx(T_975_DF2, rel=1e-9)
    half = T_975_DF2 / math.sqrt(3)
    assert diff.low == pytest.approx(2 - half)
    assert diff.high == pytest.approx(2 + half)
    # with 2 degrees of freedom P(|T| > t) = 1 - t / sqrt(2 + t^2)
    t = 2 / (1 / math.sqrt(3))
    assert diff.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t))
    assert paired_difference({0: 1.0}, {1: 1.0}) is None
    single = paired_difference({0: 2.0}, {0: 1.0})
    assert single.mean == 1.0 and math.isnan(single.low)


# ------------------------------------------------------- metric files


def write_scalars(run_dir: Path, start: str, lines: list) -> None:
    vis = run_dir / start / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(
        json.dumps(line) + '\n' for line in lines))


def test_validation_curve_merges_starts_and_skips_cut_lines(tmp_path):
    # a first start validated at 2, died at 3; the resume repeated step 2
    write_scalars(tmp_path, '20260101_000000', [
        dict(loss=2.0, step=1),
        dict(mIoU=10.0, rmse=2.0, step=2),
    ])
    (tmp_path / '20260101_000000' / 'vis_data' /
     'scalars.json').open('a').write('{"mIoU": 1')  # cut by a kill
    write_scalars(tmp_path, '20260101_010000', [
        dict(mIoU=12.0, rmse=1.5, step=2),
        dict(loss=1.0, step=3),
        dict(mIoU=11.0, rmse=1.2, step=4),
    ])
    curve = validation_curve(str(tmp_path), ['mIoU', 'rmse'])
    assert curve == {
        2: dict(mIoU=12.0, rmse=1.5),
        4: dict(mIoU=11.0, rmse=1.2)
    }
    study_metrics = load_study_config(
        str(fake_study(tmp_path, '[dict(name="a", config=_config)]'))).metrics
    final, best, best_step = final_and_best(curve, study_metrics, 'here')
    assert final == dict(mIoU=11.0, rmse=1.2)
    assert best == dict(mIoU=12.0, rmse=1.2)  # rmse: lower is better
    assert best_step == dict(mIoU=2, rmse=4)
    with pytest.raises(MetricsNotFoundError, match='no validation metrics'):
        final_and_best({}, study_metrics, 'here')
    with pytest.raises(MetricsNotFoundError, match=r"lacks \['rmse'\]"):
        final_and_best({4: dict(mIoU=1.0)}, study_metrics, 'here')


def test_results_equal_hand_computed_values(tmp_path):
    """Stored metric files of 2 candidates x 3 seeds -> tables."""
    study = load_study_config(
        str(
            fake_study(
                tmp_path, """[
    dict(name='base', label='Base', config=_config),
    dict(name='cmim', label='Base + CMIM', config=_config,
         baseline='base',
         cfg_options={'model.backbone.init_cfg': None}),
]""", '[0, 1, 2]')))
    finals = {
        'base': dict(mIoU=[40.0, 42.0, 47.0], rmse=[1.0, 0.8, 0.9]),
        'cmim': dict(mIoU=[41.0, 45.0, 49.0], rmse=[0.9, 0.9, 0.6]),
    }
    for run in plan_runs(study):
        f = finals[run.candidate.name]
        miou, rmse = f['mIoU'][run.seed], f['rmse'][run.seed]
        # an earlier validation with a better mIoU and a worse rmse
        write_scalars(
            Path(run.work_dir), '20260101_000000', [
                dict(mIoU=miou + 1, rmse=rmse + 1, step=2),
                dict(mIoU=miou, rmse=rmse, step=4),
            ])
        finish_run(run, study, duration=10.0, command=['x'])
    runner = StudyRunner(
        study, LaunchSettings(train_script='unused'), stream=io.StringIO())
    assert runner.run(train=False) == 0
    out = Path(study.work_dir)
    results = json.loads((out / 'results.json').read_text())
    by_name = {c['name']: c for c in results['candidates']}
    base = by_name['base']['final']
    assert base['mIoU']['mean'] == pytest.approx(43.0)
    # deviations -3, -1, 4: (9 + 1 + 16) / 2 = 13
    assert base['mIoU']['std'] == pytest.approx(math.sqrt(13))
    assert base['rmse']['mean'] == pytest.approx(0.9)
    assert base['rmse']['std'] == pytest.approx(0.1)
    assert by_name['base']['best']['mIoU']['mean'] == pytest.approx(44.0)
    assert by_name['base']['best']['rmse']['mean'] == pytest.approx(0.9)
    diffs = {(c['kind'], c['metric']): c for c in results['comparisons']}
    miou = diffs[('final', 'mIoU')]
    half = T_975_DF2 * 1.0 / math.sqrt(3)  # d = [1, 3, 2], s_d = 1
    assert (miou['mean'], miou['low'], miou['high']) == pytest.approx(
        (2.0, 2.0 - half, 2.0 + half))
    assert miou['improves'] is None  # the interval holds 0
    rmse = diffs[('final', 'rmse')]
    # d = [-0.1, 0.1, -0.3]: mean -0.1, s_d = 0.2
    assert rmse['mean'] == pytest.approx(-0.1)
    assert rmse['std'] == pytest.approx(0.2)
    assert rmse['high'] == pytest.approx(-0.1 + T_975_DF2 * 0.2 / math.sqrt(3))
    rows = list(csv.DictReader((out / 'results.csv').open()))
    assert [r['candidate'] for r in rows] == ['base', 'cmim']
    assert float(rows[1]['mIoU_diff_low']) == pytest.approx(2.0 - half)
    assert rows[0]['mIoU_diff'] == ''  # no baseline, no difference
    runs = list(csv.DictReader((out / 'runs.csv').open()))
    assert len(runs) == 6 and {r['status'] for r in runs} == {'done'}
    md = (out / 'results.md').read_text()
    assert '| Base | 3 | 43 ± 3.606 | 0.9 ± 0.1 |' in md
    # 2 -+ 4.3027 / sqrt(3) = [-0.4841, +4.484]; p from the df=2 formula
    assert ('| Base + CMIM † | Base | 3 | +2 [-0.4841, +4.484] '
            '(p=0.07418)') in md
    assert 'paired t-test' in md and 'scipy.stats.t' in md
    assert '†: trained from scratch on purpose' in md
    assert (out / 'metrics_bar.png').stat().st_size > 0
    assert (out / 'val_curves.png').stat().st_size > 0


# --------------------------------------------------------- the config


@pytest.mark.parametrize('body, match', [
    ("seeds = [0]\nmetrics = [dict(key='mIoU', direction='up')]\n"
     'candidates = [dict(name="a", config=_config)]',
     r"metrics\[0\].direction must be one of \('higher', 'lower'\)"),
    ("metrics = [dict(key='mIoU', direction='higher')]\n"
     'candidates = [dict(name="a", config=_config)]', '`seeds` is missing'),
    ("seeds = [0]\nmetrics = [dict(key='mIoU', direction='higher')]\n"
     'candidates = [dict(name="a", config=_config, baseline="b")]',
     "baseline 'b' is not a candidate"),
    ("seeds = [0]\nmetrics = [dict(key='mIoU', direction='higher')]\n"
     'candidates = [dict(name="a", config="nowhere.py")]',
     "candidate 'a': config 'nowhere.py' not found"),
    ("seeds = [0]\nmetrics = [dict(key='mIoU', direction='higher')]\n"
     "candidates = [dict(name='a', config=_config,\n"
     "                   cfg_options={'model.type': 'a,b'})]",
     "model.type: 'a,b' cannot be passed as --cfg-options"),
    ("seeds = [0, 0]\nmetrics = [dict(key='mIoU', direction='higher')]\n"
     'candidates = [dict(name="a", config=_config)]', 'repeats a seed'),
])
def test_bad_study_config_names_file_and_field(tmp_path, body, match):
    path = write_study(tmp_path / 'bad_study.py',
                       f'_config = {str(TINY_SEG)!r}\n{body}\n')
    with pytest.raises(StudyConfigError, match=match) as err:
        load_study_config(str(path))
    assert str(path) in str(err.value)


def test_cfg_options_round_trip_through_the_command_line():
    from mmengine.config import DictAction
    options = {
        'model': {
            'backbone': {
                'binarizer': None
            }
        },
        'lr': 0.001,
        'flag': False,
        'scales': [(1, 2), (3, 4)],
        'name': 'irnet'
    }
    args = to_cfg_options_args(options)
    assert args == [
        'model.backbone.binarizer=None', 'lr=0.001', 'flag=false',
        'scales=[(1,2),(3,4)]', 'name=irnet'
    ]
    parsed = {}
    for arg in args:  # what tools/train.py will see
        key, value = arg.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    assert parsed == {
        'model.backbone.binarizer': None,
        'lr': 0.001,
        'flag': False,
        'scales': [(1, 2), (3, 4)],
        'name': 'irnet'
    }
    for bad in ('1', 'a b', [dict(a=1)]):
        with pytest.raises(ValueError, match='x: '):
            to_cfg_options_args({'x': bad})
    assert is_from_scratch({'model.architecture.backbone.init_cfg': None})
    assert is_from_scratch({'model': {'backbone': {'init_cfg': None}}})
    assert not is_from_scratch({'model.backbone.init_cfg.type': 'Pretrained'})


# ------------------------------------------------- launching, progress


def test_launch_commands_and_parallel_slots(tmp_path, monkeypatch):
    study = load_study_config(
        str(fake_study(tmp_path, '[dict(name="a", config=_config)]')))
    run = plan_runs(study)[1]  # seed 1
    settings = LaunchSettings(
        train_script='tools/train.py',
        dist_script='tools/dist_train.sh',
        launcher='pytorch',
        gpus=2,
        port=29600)
    assert train_command(run, True, settings) == [
        'bash', 'tools/dist_train.sh',
        str(TINY_SEG), '2', '--work-dir', run.work_dir, '--resume',
        '--cfg-options', 'randomness.seed=1'
    ]
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '4,5,6,7')
    env = slot_env(1, 2, settings)
    assert (env['CUDA_VISIBLE_DEVICES'], env['PORT']) == ('6,7', '29601')
    with pytest.raises(ValueError, match='needs 6 GPUs'):
        slot_env(2, 3, settings)
    plain = LaunchSettings(train_script='train.py', python='py')
    assert train_command(run, False,
                         plain)[:3] == ['py', 'train.py',
                                        str(TINY_SEG)]
    # without a launcher the runs share the visible devices
    assert slot_env(1, 2, plain)['CUDA_VISIBLE_DEVICES'] == '4,5,6,7'


def test_progress_eta_from_finished_runs():
    stream = io.StringIO()
    progress = StudyProgress(total=5, jobs=2, stream=stream)
    assert progress.eta() is None
    progress.already_done(1, 'a/seed_0', 10.0)
    progress.done(2, 'b/seed_0', 20.0)
    # mean 15 s x 3 runs left / 2 side by side
    assert progress.eta() == pytest.approx(22.5)
    progress.started(3, 'a/seed_1', False, 'log')
    assert 'run 3/5 a/seed_1: starting (3 left, ETA 0:00:22)' in (
        stream.getvalue())


# -------------------------------------- failures, resume, finished runs


def test_failing_run_is_reported_and_the_rest_goes_on(tmp_path):
    study_file = fake_study(
        tmp_path, """[
    dict(name='bad', config=_config, cfg_options={'fake.exit_code': 3}),
    dict(name='good', config=_config, cfg_options={'fake.miou': 50}),
    dict(name='silent', config=_config,
         cfg_options={'fake.no_metrics': True}),
]""")
    runner = fake_runner(study_file, jobs=2)
    assert runner.run() == 1
    out = runner.stream.getvalue()
    work = tmp_path / 'work'
    bad_log = work / 'bad' / 'seed_0' / 'study_train.log'
    assert f'bad/seed_0: FAILED (exit code 3); log: {bad_log}' in out
    assert 'failed on purpose' in bad_log.read_text()
    assert 'silent/seed_1: FAILED (no validation metrics' in out
    for seed in (0, 1):  # the good runs went on and finished
        marker = read_marker(str(work / 'good' / f'seed_{seed}'))
        assert marker['final'] == dict(mIoU=50.0 + seed, rmse=1 - seed / 10)
        assert read_marker(str(work / 'bad' / f'seed_{seed}')) is None
    md = (work / 'results.md').read_text()
    assert f'bad seed 0 failed: exit code 3 (log: `{bad_log}`)' in md
    # starting again retries the failed runs only
    again = fake_runner(study_file)
    assert again.run() == 1
    assert len(calls(work / 'good' / 'seed_0')) == 1
    assert len(calls(work / 'bad' / 'seed_0')) == 2
    assert 'good/seed_0: already done' in again.stream.getvalue()


def test_half_finished_run_resumes_and_finished_run_is_not_redone(tmp_path):
    study_file = fake_study(tmp_path, '[dict(name="a", config=_config)]')
    work = tmp_path / 'work' / 'a'
    first = fake_runner(study_file)
    runs = first.runs
    # seed 1 was killed after a checkpoint: mmengine's pointer is there
    (work / 'seed_1').mkdir(parents=True)
    (work / 'seed_1' / 'last_checkpoint').write_text('iter_1.pth')
    assert [r.state() for r in runs] == [NEW, RESUME]
    assert first.run() == 0
    assert [c['resume'] for c in calls(work / 'seed_0')] == [False]
    assert [c['resume'] for c in calls(work / 'seed_1')] == [True]
    marker = (work / 'seed_0' / 'study_run.json').read_text()
    assert fake_runner(study_file).run() == 0
    assert len(calls(work / 'seed_0')) == 1  # not trained again
    assert (work / 'seed_0' / 'study_run.json').read_text() == marker


def test_tool_refuses_a_bad_study_config(tmp_path):
    path = write_study(tmp_path / 'study.py', 'seeds = [0]\n')
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 2
    assert f'study config {path}: `metrics` is missing' in proc.stderr


# ------------------------------------------------- a real tiny study


def test_tiny_study_end_to_end_killed_and_resumed(tmp_path, tiny_seg_dataset):
    """FP vs IR-Net on the toy dataset, 2 seeds, 2 iterations each."""
    data = tiny_seg_dataset.make(tmp_path / 'data')
    study_file = write_study(
        tmp_path / 'tiny_study.py', f"""
work_dir = {str(tmp_path / 'work')!r}
seeds = [0, 1]
metrics = [dict(key='mIoU', direction='higher'),
           dict(key='aAcc', direction='higher')]
_data = {str(data)!r}
cfg_options = {{
    'train_dataloader.dataset.data_root': _data,
    'val_dataloader.dataset.data_root': _data,
    'test_dataloader.dataset.data_root': _data,
    'train_cfg.max_iters': 2,
    'train_cfg.val_interval': 2,
    'param_scheduler.0.end': 2,
    'default_hooks.checkpoint.interval': 1,
}}
candidates = [
    dict(name='fp', label='FP', config={str(TINY_SEG)!r},
         cfg_options={{'model.backbone.binarizer': None}}),
    dict(name='irnet', label='IR-Net', config={str(TINY_SEG)!r},
         baseline='fp'),
]
""")
    env = dict(os.environ, OMP_NUM_THREADS='1')
    command = [sys.executable, str(TOOL), str(study_file)]
    work = tmp_path / 'work'
    first_run = work / 'fp' / 'seed_0'
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (first_run / 'study_run.json').exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, 'first run did not finish'
            time.sleep(0.1)
    finally:  # kill the tool and the training it started meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_output = proc.stdout.read()
    assert 'run 1/4 fp/seed_0: done' in killed_output
    assert not (work / 'irnet' / 'seed_0' / 'study_run.json').exists()
    before = {p: p.stat().st_mtime_ns for p in first_run.rglob('*')}

    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'run 1/4 fp/seed_0: already done' in done.stdout
    # the finished run was not touched: same files, same times
    assert {p: p.stat().st_mtime_ns for p in first_run.rglob('*')} == before
    assert (first_run / 'study_train.log').read_text().count('==>') == 1
    results = json.loads((work / 'results.json').read_text())
    assert [c['name'] for c in results['candidates']] == ['fp', 'irnet']
    assert [c['seeds_done'] for c in results['candidates']] == [[0, 1], [0, 1]]
    for record in results['runs']:
        marker = read_marker(record['work_dir'])
        assert record['final'] == marker['final']
        assert marker['final_step'] == 2
        assert 0 <= marker['final']['mIoU'] <= 100
    md = (work / 'results.md').read_text()
    assert md.count('\n| FP | 2 | ') == 2  # final and best tables
    assert '\n| IR-Net | FP | 2 | ' in md
    assert (work / 'metrics_bar.png').is_file()
    assert (work / 'val_curves.png').is_file()


STUDY_CONFIGS = sorted(
    (Path(__file__).resolve().parents[2] / 'configs' / 'studies').glob('*.py'))


@pytest.mark.parametrize(
    'path', STUDY_CONFIGS, ids=[p.stem for p in STUDY_CONFIGS])
def test_shipped_study_configs_name_existing_training_configs(path):
    """Every shipped study loads and each candidate's training config exists
    (a renamed leaf config would otherwise only fail on the GPU cluster)."""
    from cmim_dense.utils.study import load_study_config
    study = load_study_config(str(path))
    assert study.candidates and study.seeds
    for candidate in study.candidates:
        assert os.path.isfile(candidate.config), candidate.config
        if candidate.baseline is not None:
            assert candidate.baseline in {c.name for c in study.candidates}
