"""The `csi` console script: the command line, and a Ctrl-C met before it is ready.

Why a module of its own: starting `csi` imports typer, rich and the commands (a tenth
of a second or more); a Ctrl-C in that time, or while an interruption is being
reported, would end in a Python traceback. This module imports almost nothing at load,
so the console script reaches `main` at once, and `main` catches what escapes the
command line's own handling.
"""

from __future__ import annotations

from pipeline.cli.interrupted import stop_interrupted


def main() -> None:
    """`csi`, with every interruption ending in French and code 130."""
    try:
        from pipeline.cli.app import main as command_line

        command_line()
    except KeyboardInterrupt:
        stop_interrupted()
