"""``distributed_shutdown``: the process group is gone when the block ends,
whether it ends normally or by an exception; nothing happens without one."""
import pytest
import torch.distributed as dist

from cmim_dense.utils.cli import distributed_shutdown


@pytest.fixture
def one_rank_group(tmp_path):
    """A real one-rank gloo group (a file store, no port)."""
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
        world_size=1)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_group_destroyed_after_a_normal_end(one_rank_group):
    with distributed_shutdown():
        assert dist.is_initialized()
        dist.barrier()
    assert not dist.is_initialized()


def test_group_destroyed_and_exception_kept(one_rank_group):
    with pytest.raises(SystemExit) as info:
        with distributed_shutdown():
            raise SystemExit(75)
    assert info.value.code == 75
    assert not dist.is_initialized()


def test_return_value_passes_through_without_a_group():
    assert not dist.is_initialized()

    def run():
        with distributed_shutdown():
            return 3

    assert run() == 3
    assert not dist.is_initialized()
