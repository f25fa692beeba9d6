"""Whether the process that left a file behind still runs.

Why: a process killed outright (SIGKILL, power cut) cannot remove what it wrote for its
own use, the load's staging folder or DuckDB's spill files, both holding patient data.
Each is named after its process id, and the next `csi` removes those of processes that
are gone.
"""

from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether a process still runs (a zombie, killed but not yet reaped, does not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):  # no process can have that id
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
