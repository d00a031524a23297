"""The error raised for NYUD-v2 files that are missing or malformed."""
from typing import Optional


class NYUDv2FormatError(ValueError):
    """A NYUD-v2 file is missing, unreadable or not in the expected layout.

    The message always names the file, and the field and frame when they are
    known, e.g. ``nyu.mat, field 'labels', frame 12 (index 11): ...``.
    Constructed with the message alone (as when a DataLoader worker's error
    is re-raised in the main process, or unpickled) it keeps that message.

    Args:
        path (str): The offending file (or folder), or the whole message
            when ``message`` is None.
        message (str, optional): What is wrong. Defaults to None.
        field (str, optional): The HDF5 dataset, ``.mat`` variable or folder
            layout part concerned. Defaults to None.
        frame (int, optional): 0-based frame index concerned; reported as
            the 1-based MATLAB frame number and the index. Defaults to None.
    """

    def __init__(self,
                 path: str,
                 message: Optional[str] = None,
                 field: Optional[str] = None,
                 frame: Optional[int] = None) -> None:
        self.path = None if message is None else str(path)
        self.field = field
        self.frame = frame
        if message is None:
            super().__init__(str(path))
            return
        where = [self.path]
        if field is not None:
            where.append(f'field {field!r}')
        if frame is not None:
            where.append(f'frame {frame + 1} (index {frame})')
        super().__init__(f'{", ".join(where)}: {message}')
