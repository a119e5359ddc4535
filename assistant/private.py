"""Files and folders only their owner may read: the index, the database, the widget key and exports of personal
data live under the data directory."""

import contextlib
import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter (0700), created if need be: the index, the database, the
    widget key and exports of personal data live under the data directory."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # mkdir's mode does not change a directory that already existed
    return path


def private_file(path: Path) -> Path:
    """`path` as a file only its owner can read and write (0600), created empty if need be.

    An existing file is never opened, only chmod-ed by name: closing any descriptor of an SQLite database drops
    every POSIX lock this process holds on it, under connections that may be open (SQLite's own warning).
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    path.chmod(0o600)
    return path
