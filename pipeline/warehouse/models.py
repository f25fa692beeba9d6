"""The SQL models of `sql/` and the one graph they form: the only place that knows them.

Each model is one file in one of three layers (staging → intermediate → marts) and says
at its top, sqlmesh/dbt style, what one row is and what it reads:

    -- grain: one billing line (centre_finess, invoice_id, line_no), latest version…
    -- reads: billing_lines, ngap_reference, finess_zones

`reads:` names every table and model the SQL reads, CTE names excepted
(`tests/warehouse/test_models.py` parses each model with sqlglot and checks that its
header tells the truth). From the headers come the order in which the models are
created (`model_order`), the models a register change recomputes (`register_readers`)
and the stamp of the stored models (`model_stamp`). The materialisation at load, the
migrations and `--as-of` (`pipeline.warehouse.materialise`, `pipeline.warehouse.asof`)
all ask this module; nothing else resolves dependencies between models.

A header that names an unknown table, a model of a higher layer, a cycle, or lacks its
`grain:` or `reads:` line is refused with `ModelGraphError` when the graph is first read.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pipeline.core.resources import resource_dir

LAYERS = ("staging", "intermediate", "marts")
# The canonical tables of the warehouse (`pipeline.warehouse.schema.CANONICAL_DDL`).
CANONICAL_TABLES = ("billing_lines", "patients", "episodes")
REGISTER_PREFIX = "register_"
# A header line: `-- key: value` in the comment block that opens the file. The header is
# the product's own format, so a small regex reads it (sqlglot is only the test's judge).
_HEADER_LINE = re.compile(r"--\s*(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
REQUIRED_KEYS = ("grain", "reads")


class ModelGraphError(RuntimeError):
    """A model's header is malformed or the headers do not form a layered acyclic graph.

    A packaging error (the SQL files shipped are wrong), not a user's input error: the
    message names the file and what to fix, for the developer.
    """


@dataclass(frozen=True)
class Model:
    """One SQL model: its file's stem, layer, declared grain and inputs, and its SQL."""

    name: str
    layer: str
    grain: str
    reads: frozenset[str]
    sql: str
    path: Path

    @property
    def models_read(self) -> frozenset[str]:
        """The other models it reads (the rest are warehouse tables)."""
        return frozenset(r for r in self.reads if not is_source_table(r))


@functools.cache
def source_tables() -> frozenset[str]:
    """The warehouse tables a model may read: canonical, register and reference tables."""
    # Deferred: the reference module imports the holiday calendars, the register's the
    # pydantic models; a reader that only lists the models needs neither.
    from pipeline.core.reference import REFERENCE_TABLES
    from pipeline.warehouse.register_tables import REGISTER_TABLES

    return frozenset((*CANONICAL_TABLES, *REGISTER_TABLES, *REFERENCE_TABLES))


def is_source_table(name: str) -> bool:
    return name in source_tables()


def parse_header(text: str, where: str) -> dict[str, str]:
    """The `key: value` lines of the comment block that opens a model (`where` names it).

    Only the leading `--` lines count; a key given twice is refused, as the second
    would silently win.
    """
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        found = _HEADER_LINE.fullmatch(line)
        if not found or found["key"] not in REQUIRED_KEYS:
            continue
        if found["key"] in header:
            raise ModelGraphError(f"{where}: the header has two `{found['key']}:` lines")
        header[found["key"]] = found["value"]
    for key in REQUIRED_KEYS:
        if not header.get(key):
            raise ModelGraphError(f"{where}: the header has no `-- {key}: …` line at its top")
    return header


def parse_reads(value: str, where: str) -> frozenset[str]:
    """The comma-separated table and model names of a `reads:` line."""
    names = [name.strip() for name in value.split(",")]
    bad = [name for name in names if not _NAME.fullmatch(name)]
    if bad:
        raise ModelGraphError(f"{where}: `reads:` holds {bad}, not table or model names")
    if len(set(names)) != len(names):
        raise ModelGraphError(f"{where}: `reads:` names a table twice: {value}")
    return frozenset(names)


def read_model(path: Path, layer: str) -> Model:
    """One model from its file, header parsed (not yet checked against the others)."""
    sql = path.read_text(encoding="utf-8")
    where = f"sql/{layer}/{path.name}"
    header = parse_header(sql, where)
    reads = parse_reads(header["reads"], where)
    if path.stem in reads:
        raise ModelGraphError(f"{where}: a model cannot read itself")
    return Model(path.stem, layer, header["grain"], reads, sql, path)


def model_files(root: Path | None = None) -> list[Path]:
    """The SQL files of the models, layer by layer (staging, intermediate, marts)."""
    root = root or resource_dir("sql")
    return [path for layer in LAYERS for path in sorted((root / layer).glob("*.sql"))]


def build_graph(models: Iterable[Model]) -> Mapping[str, Model]:
    """The models in dependency order (each after every model it reads), checked.

    Refused: two models of one name, a name in `reads:` that is neither a model nor a
    warehouse table, a model reading a model of a higher layer, a cycle. The order is
    level by level, alphabetical within a level, so it never depends on the file system.
    """
    by_name: dict[str, Model] = {}
    for model in models:
        if model.name in by_name:
            raise ModelGraphError(f"two models are named {model.name}")
        by_name[model.name] = model
    sources = source_tables()
    for model in by_name.values():
        _check_reads(model, by_name, sources)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(by_name):
        ready = sorted(
            name
            for name, model in by_name.items()
            if name not in placed and model.reads - sources <= placed
        )
        if not ready:
            stuck = sorted(set(by_name) - placed)
            raise ModelGraphError(f"the SQL models read each other in a cycle among {stuck}")
        ordered += ready
        placed.update(ready)
    return MappingProxyType({name: by_name[name] for name in ordered})


def _check_reads(model: Model, models: Mapping[str, Model], sources: frozenset[str]) -> None:
    where = f"sql/{model.layer}/{model.name}.sql"
    unknown = sorted(model.reads - sources - set(models))
    if unknown:
        raise ModelGraphError(
            f"{where}: `reads:` names {unknown}, neither a model nor a warehouse table"
        )
    higher = sorted(
        name
        for name in model.reads & set(models)
        if LAYERS.index(models[name].layer) > LAYERS.index(model.layer)
    )
    if higher:
        raise ModelGraphError(f"{where}: a {model.layer} model reads {higher} of a higher layer")


@functools.cache
def graph() -> Mapping[str, Model]:
    """Every model of the package, in dependency order (read from `sql/` once)."""
    return build_graph(read_model(path, path.parent.name) for path in model_files())


def model_order() -> tuple[str, ...]:
    """Every model's name, each after every model it reads."""
    return tuple(graph())


def model_sql(name: str) -> str:
    return graph()[name].sql


@functools.cache
def register_readers() -> frozenset[str]:
    """The models that read a register table, directly or through another model.

    A load that changes only a centre × year's register recomputes these alone.
    """
    found: set[str] = set()
    for name, each in graph().items():
        if any(r.startswith(REGISTER_PREFIX) for r in each.reads) or each.reads & found:
            found.add(name)
    return frozenset(found)


def model_stamp() -> str:
    """What the stored models are computed from: every SQL file, the reference data and
    the canonical tables' layout (a column's type is its models' columns' type).

    A package whose models, reference tables or layout differ rebuilds them all when it
    first opens the warehouse for writing.
    """
    from pipeline.core.canonical import LAYOUT
    from pipeline.core.reference import reference_stamp

    digest = hashlib.sha256(reference_stamp().encode())
    digest.update(repr(LAYOUT).encode())
    for name, each in graph().items():
        digest.update(f"\0{name}\0{each.sql}".encode())
    return digest.hexdigest()
