"""Suite-wide test settings and shared fixtures."""
import importlib.util
from pathlib import Path

import pytest
import torch

DATA_DIR = Path(__file__).resolve().parent / 'data'

# Tiny tensors: intra-op threads cost far more than they give (a 3x3 conv on
# a 5x5 input takes ~20 ms with 2 threads and ~0.1 ms with one on the 2-core
# CI machine). Subprocess tests set OMP_NUM_THREADS=1 for the same reason.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same global torch seed."""
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """A test that builds a Runner (which makes its ``default_scope`` the
    current mmengine scope) does not change the scope later tests see: the
    scopes created during the test are dropped afterwards."""
    from mmengine.registry import DefaultScope
    before = set(DefaultScope._instance_dict)
    yield
    for name in [n for n in DefaultScope._instance_dict if n not in before]:
        del DefaultScope._instance_dict[name]


@pytest.fixture(scope='session')
def tiny_seg_dataset():
    """The module writing the toy dataset of ``tests/data/configs``."""
    spec = importlib.util.spec_from_file_location(
        'tiny_seg_dataset', DATA_DIR / 'tiny_seg_dataset.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# No network: sockets may only connect to loopback (the gloo DDP tests use
# 127.0.0.1) or AF_UNIX addresses while the suite runs.
# --------------------------------------------------------------------------


class NetworkBlockedError(OSError):
    """A test tried to connect to a non-loopback address."""


def _is_local_address(family: int, address) -> bool:
    """Whether ``address`` (of ``family``) is loopback, local or AF_UNIX."""
    import ipaddress
    import socket
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # AF_UNIX, AF_NETLINK, ...: nothing leaves the machine
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ('localhost', ''):
        return True
    try:
        ip = ipaddress.ip_address(str(host).split('%', 1)[0])
    except ValueError:  # a host name: not resolved, refused
        return False
    return ip.is_loopback or ip.is_unspecified


@pytest.fixture(scope='session', autouse=True)
def _block_network():
    """Refuse connections that would leave the machine, for every test."""
    import socket
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    create_connection = socket.create_connection

    def check(family: int, address) -> None:
        if not _is_local_address(family, address):
            raise NetworkBlockedError(
                f'network access is blocked in the tests: connect to '
                f'{address!r}')

    def guarded_connect(self, address):
        check(self.family, address)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        check(self.family, address)
        return connect_ex(self, address)

    def guarded_create_connection(address, *args, **kwargs):
        check(socket.AF_INET, address)  # before any name resolution
        return create_connection(address, *args, **kwargs)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.create_connection = guarded_create_connection
    try:
        yield
    finally:
        socket.socket.connect = connect
        socket.socket.connect_ex = connect_ex
        socket.create_connection = create_connection


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='session')
def run_torchrun():
    """Run ``script args`` in 2 CPU processes with torchrun (gloo scripts).

    Returns a function ``(script, *args, pythonpath=()) ->
    CompletedProcess`` that fails the test with torchrun's stderr if a
    rank fails. The repository root is on ``PYTHONPATH``.
    """
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]

    def run(script, *args, pythonpath=(), timeout=240):
        env = dict(os.environ, OMP_NUM_THREADS='1')
        env['PYTHONPATH'] = os.pathsep.join(
            [str(p) for p in pythonpath] + [str(root)] +
            ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
        for key in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE'):
            env.pop(key, None)
        proc = subprocess.run([
            sys.executable, '-m', 'torch.distributed.run',
            '--nproc_per_node=2', '--master_addr=127.0.0.1',
            f'--master_port={_free_port()}',
            str(script), *map(str, args)
        ],
                              env=env,
                              capture_output=True,
                              text=True,
                              timeout=timeout)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return proc

    return run
