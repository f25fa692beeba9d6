"""`python -m tests.faulty_csi ARGS…`: the `csi` command with a fault point installed.

The all-or-nothing tests kill or interrupt a load while its transaction is open. The
product has no such switch: its `Hooks` are no-ops. This test-only entry installs a
`fault_point` hook, then runs the real CLI: with `CSI_FAULT_AFTER=billing` (the billing
table written, transaction open) or `billing-batch` (a batch staged, the staging folder
on disk), the load announces itself on stderr and waits to be stopped. With
`CSI_SIGNAL_AFTER=billing:0.3:SIGTERM` instead, the load goes on and the process sends
itself that signal 0.3 s after that point, wherever the load is then (in Python or in a
DuckDB statement). With `CSI_RAISE_AFTER=billing:OutOfMemoryException`, the load raises
that DuckDB error at that point, as DuckDB itself would mid-statement.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from pipeline.cli.app import main
from pipeline.core.settings import Hooks

FAULT_VARIABLE = "CSI_FAULT_AFTER"
SIGNAL_VARIABLE = "CSI_SIGNAL_AFTER"
RAISE_VARIABLE = "CSI_RAISE_AFTER"
MARK = "csi-fault-point"
WAIT_SECONDS = 3600  # far longer than any test: the test stops the process first


def stop_at(point: str | None):
    """A `fault_point` hook that waits at `point` (and does nothing elsewhere)."""

    def fault_point(name: str) -> None:
        if name == point:
            print(f"{MARK} {name}", file=sys.stderr, flush=True)
            time.sleep(WAIT_SECONDS)

    return fault_point


def signal_after(plan: str):
    """A `fault_point` hook that, at the point `plan` names, arms a signal for later."""
    point, delay, name = plan.split(":")
    sig = getattr(signal, name)

    def fault_point(reached: str) -> None:
        if reached == point:
            timer = threading.Timer(float(delay), os.kill, (os.getpid(), sig))
            timer.daemon = True
            timer.start()

    return fault_point


def raise_at(plan: str):
    """A `fault_point` hook that raises, at the point `plan` names, that DuckDB error."""
    import duckdb

    point, name = plan.split(":")

    def fault_point(reached: str) -> None:
        if reached == point:
            raise getattr(duckdb, name)(f"{name} raised by the test at {point}")

    return fault_point


if __name__ == "__main__":
    plan = os.environ.get(SIGNAL_VARIABLE)
    failure = os.environ.get(RAISE_VARIABLE)
    if failure:
        hook = raise_at(failure)
    else:
        hook = signal_after(plan) if plan else stop_at(os.environ.get(FAULT_VARIABLE))
    main(Hooks(fault_point=hook))
