"""DuckDB's spill files left by a process killed outright, removed at the next opening.

Why: beyond its memory budget, DuckDB writes the rows it works on (billing lines,
patients: pseudonymised, but patient data still) to files in the warehouse's temporary
folder, `<warehouse>.tmp`, and removes them when the statement ends or the connection
closes. A process killed outright (SIGKILL, power cut) leaves them there, hundreds of
megabytes, and DuckDB never removes another process's files. Each is named after its
process id (`duckdb_temp_<pid>_…`): `connect` removes those of processes that are gone.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from pipeline.core.processes import alive

_SPILL_FILE = re.compile(r"duckdb_temp_(\d+)_")


def spill_folder(warehouse: Path) -> Path:
    """DuckDB's default temporary folder for a database file (its `temp_directory`)."""
    return warehouse.with_name(warehouse.name + ".tmp")


def remove_stale_spill(warehouse: Path) -> list[Path]:
    """Remove the spill files of processes that no longer run; return them.

    The folder goes too once empty (DuckDB creates it again when it spills). Files of a
    running process, or named otherwise, are left alone.
    """
    folder = spill_folder(warehouse)
    if folder.is_symlink() or not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        found = _SPILL_FILE.match(path.name)
        if found and not path.is_dir() and not alive(int(found.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    if removed:
        with contextlib.suppress(OSError):  # not empty: another process spills there
            folder.rmdir()
    return removed
