"""Files that are never left half-written: temp file, fsync, rename."""
import io
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Any, List, Union

#: Name ending of :func:`atomic_write`'s temporary files (``.NAME.*.tmp``).
TMP_SUFFIX = '.tmp'


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically.

    The bytes go to a temporary file in the destination's folder, which is
    flushed, fsynced, given the usual permissions (``0o666 & ~umask``) and
    renamed onto ``filepath`` with :func:`os.replace` (atomic on POSIX and
    Windows). A crash or an error at any point leaves either the previous
    file or the complete new one, and no temporary file after an error.

    Args:
        data (bytes): The file's content.
        filepath (str | Path): Destination; its folder is created.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(filepath)}.', suffix=TMP_SUFFIX, dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def remove_temporaries(folder: Union[str, Path]) -> List[str]:
    """Remove the temporary files a killed :func:`atomic_write` left.

    A process killed between the temporary file's creation and the rename
    (SIGKILL, power loss) cannot clean up. Call this where no write is in
    progress (before training starts).

    Args:
        folder (str | Path): The destination folder of the writes.

    Returns:
        list[str]: The paths removed.
    """
    folder = str(folder)
    if not osp.isdir(folder):
        return []
    removed = []
    for name in os.listdir(folder):
        path = osp.join(folder, name)
        if name.startswith('.') and name.endswith(TMP_SUFFIX) and \
                osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def atomic_torch_save(obj: Any, filepath: Union[str, Path]) -> None:
    """``torch.save(obj)`` to ``filepath`` through :func:`atomic_write`."""
    import torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), filepath)
