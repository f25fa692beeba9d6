"""The folders where a load stages files of patient data (the UTF-8 copy of a CSV).

A CSV in another encoding is read through its UTF-8 copy (`pipeline.extract.readers`), made
in the staging folder the loader opens per table (`pipeline.load.loader`). The
folder must never outlive the load: it is removed on every exit, normal, error,
Ctrl-C or SIGTERM (turned into an interruption while the folder exists); a process
killed outright (SIGKILL, power cut) cannot clean up, so its folder is named after its
process id, `csi-load-<pid>-…` in the temporary directory, and the next load removes
every such folder whose process is gone (`remove_stale`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.processes import alive

PREFIX = "csi-load-"
# Folders of versions that did not name them after their process: removed once surely idle.
LEGACY_AGE_SECONDS = 24 * 3600
_CAUGHT = (signal.SIGTERM, signal.SIGHUP)


def staging_root() -> Path:
    return Path(tempfile.gettempdir())


def _owner(name: str) -> int | None:
    """The process id in a folder's name, None for a folder named by an earlier version."""
    head = name.removeprefix(PREFIX).split("-", 1)[0]
    return int(head) if head.isdigit() and "-" in name.removeprefix(PREFIX) else None


def _stale(path: Path) -> bool:
    pid = _owner(path.name)
    if pid is not None:
        return not alive(pid)
    try:
        return time.time() - path.stat().st_mtime > LEGACY_AGE_SECONDS
    except OSError:
        return False


def remove_stale(root: Path | None = None) -> list[Path]:
    """Remove the staging folders left by loads whose process is gone; return them."""
    removed = []
    for path in (root or staging_root()).glob(f"{PREFIX}*"):
        if path.is_dir() and not path.is_symlink() and _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP raise `KeyboardInterrupt` meanwhile, so that `finally` blocks run
    (the transaction rolls back, the folder goes); only from the main thread, and only
    where nobody else handles these signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in _CAUGHT}
    for sig, handler in previous.items():
        if handler is signal.SIG_DFL:
            signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is signal.SIG_DFL:
                signal.signal(sig, handler)


@contextmanager
def staging_folder(root: Path | None = None) -> Iterator[Path]:
    """A new, private staging folder for one load, removed whatever way the load ends."""
    with (
        signals_interrupt(),
        tempfile.TemporaryDirectory(
            prefix=f"{PREFIX}{os.getpid()}-", dir=root or staging_root()
        ) as folder,
    ):
        yield Path(folder)
