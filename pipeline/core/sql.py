"""SQL text built from Python values: string literals, lists of them, enum types.

Why by hand: DuckDB's prepared parameters cannot stand for a type (`enum(…)`), an
`attach` path or a list spliced into a view's text; these few helpers are the one place
such values are quoted.
"""

from __future__ import annotations

from collections.abc import Iterable


def literal(value: object) -> str:
    """A SQL string literal: single quotes doubled, so any text (apostrophes…) is safe."""
    return "'" + str(value).replace("'", "''") + "'"


def literals(values: Iterable[object]) -> str:
    """String literals separated by commas, for `in (…)`."""
    return ", ".join(literal(v) for v in values)


def enum_type(values: Iterable[str]) -> str:
    """A DuckDB enum of these values, spelt as DuckDB reports it (`information_schema`).

    Why enums: a column of a few known words costs DuckDB a fifth of a text column to
    write (no string compression to choose), and it reads and compares as text. The
    values are sorted so that the enum sorts as the text did (`order by` keeps its order).
    """
    return f"ENUM({literals(sorted(set(values)))})"
