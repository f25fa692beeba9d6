"""How every interrupted `csi` run ends: one French sentence on stderr, exit code 130.

Written with `sys.stderr` alone, so that it holds even while `csi` is still importing
its libraries (`pipeline.cli.entry`).
"""

from __future__ import annotations

import sys
from typing import NoReturn

INTERRUPTED = 130  # the exit code of a process stopped by Ctrl-C, as shells report it
INTERRUPTED_MESSAGE = "Interrompu : l'entrepôt est resté dans son état précédent."


def stop_interrupted() -> NoReturn:
    """Say in French that the run was interrupted, then exit 130."""
    try:
        sys.stderr.write(INTERRUPTED_MESSAGE + "\n")
        sys.stderr.flush()
    except (KeyboardInterrupt, OSError):
        pass
    raise SystemExit(INTERRUPTED)
