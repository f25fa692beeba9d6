"""What csi reads from its environment: one frozen object, read once at the edge.

The CLI and the Prefect flows' entry points call `Settings.from_environ()`; everything
below them receives the values it needs (a `Settings` argument, or one of its fields),
so that no module deep in the pipeline depends on a variable read behind its back.
This is the only module of `pipeline/` that reads `os.environ`.

Why a frozen dataclass rather than pydantic-settings: seven variables, each with a
French message naming the variable, its value and what is expected (pydantic's
messages are English and would be translated back one by one), a callable `hooks`
field, and a module the CLI imports before answering `--help` (standard library only).

An unusable value (`CSI_LOCK_TIMEOUT=abc`) is refused with a `SettingsError`, exit 1,
instead of the silent default that used to stand in for it: a lock timeout or memory
budget that the user set and csi ignored would be found only at the worst moment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import UsageError

DEFAULT_DB = Path("data") / "warehouse.duckdb"
DEFAULT_LOCK_TIMEOUT = 120.0  # seconds a load waits for a warehouse held by a reader
DEFAULT_MEMORY_LIMIT = "512MB"  # DuckDB's budget during a load: it spills beyond it (with two
# batches of the extract in Python meanwhile, 512MB keeps a 10M-line load near 1 GiB)

# DuckDB's sizes: a number, then a unit (`1GB`, `512MB`, `1.5GiB`) or a share of the RAM.
MEMORY_LIMIT_PATTERN = re.compile(
    r"^\s*(?P<number>\d+(\.\d+)?)\s*(?P<unit>b|bytes?|kb|mb|gb|tb|kib|mib|gib|tib|%)\s*$",
    re.IGNORECASE,
)

# Set where Prefect starts, before it is imported (it reads its settings at import):
# quiet logs, no analytics, and a temporary API server given time to start on a busy
# two-core machine (Prefect's own wait is 20 s).
PREFECT_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


class SettingsError(UsageError):
    """An environment variable csi cannot use: the command stops before doing anything."""


def default_secrets_dir() -> Path:
    """Where the centres' pseudonymisation keys live unless `CSI_SECRETS_DIR` says."""
    return Path.home() / ".config" / "csi" / "secrets"


def _no_fault(point: str) -> None:
    """The product's fault point: nothing happens."""


@dataclass(frozen=True)
class Hooks:
    """Seams for the test harness; the product's are no-ops.

    `fault_point(name)` is called at named points of a load (`billing`: the table
    written, transaction open; `billing-batch`: a batch staged), so that a test entry
    module can stop the process there and kill it (`tests/faulty_csi.py`).
    """

    fault_point: Callable[[str], None] = _no_fault


NO_HOOKS = Hooks()


@dataclass(frozen=True)
class Settings:
    """csi's settings, with the defaults used when a variable is not set."""

    db: Path | None = None  # CSI_DB, the warehouse when --db is not given; None: DEFAULT_DB
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # CSI_LOCK_TIMEOUT, seconds
    memory_limit: str = DEFAULT_MEMORY_LIMIT  # CSI_MEMORY_LIMIT, DuckDB's size syntax
    secrets_dir: Path = field(default_factory=default_secrets_dir)  # CSI_SECRETS_DIR
    report_workers: int | None = None  # CSI_REPORT_WORKERS; None: one per core
    source_date_epoch: int | None = None  # SOURCE_DATE_EPOCH: the reports' fixed time
    phase_log: Path | None = None  # CSI_PHASE_LOG: a load appends its phase durations (benchmark)
    hooks: Hooks = field(default_factory=Hooks, compare=False)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, hooks: Hooks | None = None
    ) -> Settings:
        """Read every variable at once; all the unusable ones are named in one message."""
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def read(name: str, parse: Callable[[str], object], default: object) -> object:
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                return parse(text)
            except ValueError as exc:
                problems.append(f"{name} = « {text} » : {exc}")
                return default

        values = {
            "db": read("CSI_DB", Path, None),
            "lock_timeout": read("CSI_LOCK_TIMEOUT", _seconds, DEFAULT_LOCK_TIMEOUT),
            "memory_limit": read("CSI_MEMORY_LIMIT", _memory_limit, DEFAULT_MEMORY_LIMIT),
            "secrets_dir": read("CSI_SECRETS_DIR", Path, default_secrets_dir()),
            "report_workers": read("CSI_REPORT_WORKERS", _workers, None),
            "source_date_epoch": read("SOURCE_DATE_EPOCH", _epoch, None),
            "phase_log": read("CSI_PHASE_LOG", _phase_log, None),
        }
        if len(problems) == 1:
            raise SettingsError(
                f"Variable d'environnement inutilisable : {problems[0]}. "
                "Corrigez-la ou supprimez-la, puis relancez."
            )
        if problems:
            raise SettingsError(
                "Variables d'environnement inutilisables : "
                + " ; ".join(problems)
                + ". Corrigez-les ou supprimez-les, puis relancez."
            )
        return cls(**values, hooks=hooks or Hooks())  # type: ignore[arg-type]

    def warehouse(self, explicit: str | Path | None = None) -> Path:
        """`--db` when given, else `CSI_DB`, else `data/warehouse.duckdb`."""
        return Path(explicit) if explicit else self.db or DEFAULT_DB

    def workers(self) -> int:
        """Concurrent groups of centres in a report: `CSI_REPORT_WORKERS`, else one per core."""
        return self.report_workers or os.cpu_count() or 1


def _seconds(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError("un nombre de secondes est attendu (par exemple 120)")
    return value


def _memory_limit(text: str) -> str:
    if not MEMORY_LIMIT_PATTERN.match(text):
        raise ValueError("une taille est attendue (par exemple 1GB, 512MB ou 50%)")
    size = _bytes(text)
    if size is not None and size < MIN_MEMORY_BYTES:
        raise ValueError("au moins 100MB sont nécessaires à DuckDB (par exemple 512MB)")
    return text.replace(" ", "")


# Below this, DuckDB cannot even create the warehouse's tables (it stops out of memory).
MIN_MEMORY_BYTES = 100 * 1000**2
_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3}
_UNITS |= {"tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def _bytes(text: str) -> float | None:
    """A DuckDB size in bytes (`512MB`, `1.5GiB`); None for a share of the RAM (`50%`)."""
    found = MEMORY_LIMIT_PATTERN.match(text)
    if found is None or found["unit"] == "%":
        return None
    return float(found["number"]) * _UNITS[found["unit"].lower()]


def _phase_log(text: str) -> Path:
    path = Path(text)
    if not path.parent.is_dir():
        raise ValueError(f"le dossier {path.parent} n'existe pas (ou n'est pas un dossier)")
    return path


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError("un nombre entier d'au moins 1 est attendu (par exemple 4)")
    return int(text)


# The last second of year 9999: a report's date must be a date (`datetime` ends there).
LAST_EPOCH = 253_402_300_799


def _epoch(text: str) -> int:
    if not text.isdigit() or int(text) > LAST_EPOCH:
        raise ValueError(
            "un nombre de secondes depuis le 1er janvier 1970 est attendu (par exemple "
            "1767225600), au plus 253402300799 (31 décembre 9999)"
        )
    return int(text)


POLARS_CSV_CHUNK_BYTES = 1 << 20


def prepare_polars_csv() -> None:
    """Give polars' streaming CSV reader a 1 MiB read-ahead, unless the user set one.

    polars reads a file ahead in chunks (`POLARS_CSV_CHUNK_SIZE`, an undocumented
    variable of polars): its default held ~400 MB of a 10M-line export at once (peak RSS
    of the bare read: 630 MB, 250 MB with 1 MiB), for no speed, since the batches are
    made one at a time anyway. Called before a CSV file is read.
    """
    os.environ.setdefault("POLARS_CSV_CHUNK_SIZE", str(POLARS_CSV_CHUNK_BYTES))


def share_cores() -> None:
    """Give polars half the machine's cores (at least one), unless the user chose: call
    before polars is first imported (it sizes its thread pool then).

    Why: a load runs polars (reading and checking the next batch) beside DuckDB (writing
    the current one), and each sizes its pool to every core by default. On two cores,
    polars' second thread bought nothing but contention: the 10M-line CSV ingest used
    20.5 CPU-s with one polars thread against 24.4 with two, and peaked at 970–990 MiB
    against 1 055–1 080 MiB, for the same time within the machine's noise.
    """
    cores = os.cpu_count() or 2
    os.environ.setdefault("POLARS_MAX_THREADS", str(max(1, cores // 2)))


def prepare_prefect(logging_level: str = "WARNING") -> None:
    """Give Prefect csi's defaults, unless the user set them: call before importing Prefect.

    Called where Prefect is started (`csi run`, `csi report --runner prefect|dask`,
    `csi serve`, the test harness), not at the import of a module. `csi serve` asks for
    INFO: a scheduled run's own lines (load, report written) belong in its journal.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", logging_level)
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
