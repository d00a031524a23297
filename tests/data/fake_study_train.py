"""A stand-in for ``tools/train.py`` in the study tool's tests (no torch).

It takes train.py's command line (``CONFIG --work-dir DIR [--resume]
--cfg-options KEY=VALUE ...``), records it in ``DIR/calls.jsonl`` and, as a
finished training would, writes ``DIR/<start>/vis_data/scalars.json``: a
training line and validation lines at steps 1 and 2 whose ``mIoU`` is
``fake.miou + seed`` at step 2 (``- 5`` at step 1) and ``rmse`` is
``fake.rmse - seed / 10``. ``fake.exit_code=N`` exits with N after printing
a line; ``fake.no_metrics=true`` writes no validation line.
"""
import json
import os
import os.path as osp
import sys


def main(argv):
    config, rest = argv[0], argv[1:]
    work_dir = rest[rest.index('--work-dir') + 1]
    options = {}
    if '--cfg-options' in rest:
        for item in rest[rest.index('--cfg-options') + 1:]:
            key, value = item.split('=', 1)
            options[key] = value
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'calls.jsonl'), 'a') as f:
        f.write(
            json.dumps(
                dict(config=config, argv=argv, resume='--resume' in rest)) +
            '\n')
    code = int(options.get('fake.exit_code', 0))
    if code:
        print(f'fake training failed on purpose (exit code {code})')
        return code
    seed = int(options['randomness.seed'])
    miou = float(options.get('fake.miou', 40)) + seed
    rmse = float(options.get('fake.rmse', 1.0)) - seed / 10
    starts = len([d for d in os.listdir(work_dir) if d.startswith('start_')])
    vis = osp.join(work_dir, f'start_{starts:03d}', 'vis_data')
    os.makedirs(vis)
    lines = [dict(loss=1.0, step=1)]
    if options.get('fake.no_metrics') != 'true':
        lines += [
            dict(mIoU=miou - 5, rmse=rmse + 1, step=1),
            dict(mIoU=miou, rmse=rmse, step=2)
        ]
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        f.writelines(json.dumps(line) + '\n' for line in lines)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
