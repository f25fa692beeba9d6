"""The checked batches of one table, read one batch ahead and fed to DuckDB in runs.

Why runs: DuckDB writes one `insert` statement on both cores, but a statement over a
single batch of 262 144 rows on one core only. Inserting 10M rows batch by batch took
7.1 s on one core; the same batches as one stream, 3.3 s on two (same CPU time). So the
loader writes every run of consecutive batches that need nothing but an append (no key
shared with the stored rows, the extract not refused) as one statement reading a
stream, and keeps the batch-by-batch path for the rest (`pipeline.load.loader`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from pipeline.extract.folder import Extract
from pipeline.extract.readers import FILE, ROW


@dataclass
class CheckedBatch:
    """A typed, checked batch; `matched`: a key of it is among the rows stored before the load."""

    frame: pl.DataFrame
    matched: bool = False


def arrow_of(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow without copying its strings: polars keeps text as string views,
    which DuckDB reads as they are; the older `large_string` layout costs a copy of every
    value (10M typed billing rows: 0.5–1 CPU-s)."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


Matcher = Callable[[pl.DataFrame], bool]  # whether a batch shares a key with the stored rows

# Batches per statement at most (2M rows). Enough for DuckDB to write on every core, few
# enough that a Ctrl-C or a SIGTERM is honoured within seconds: DuckDB runs a statement
# reading a stream without looking at Python's signals, which are handled in between.
RUN_BATCHES = 8


def _staged_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """A checked batch as the loader reads it: the origin columns renamed."""
    return frame.rename({FILE: "source_file", ROW: "source_row"})


_END = object()


def checked_batches(
    extract: Extract, table: str, folder: Path, matches: Matcher | None
) -> Generator[CheckedBatch, None, None]:
    """The table's checked batches, produced one batch ahead (`folder`: the staging
    folder, for the UTF-8 copy of a file in another encoding).

    A thread reads, types and checks the next batch (polars) and, where the table held
    rows before the load, asks `matches` whether it shares a key with them, while the
    caller loads the current one (DuckDB): both engines release the GIL, so the two
    cores stay busy. At most one finished batch waits.
    """
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: object) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for batch in extract.batches(table, workdir=folder):
                if stop.is_set():
                    return
                frame = _staged_columns(batch)
                del batch
                matched = matches is not None and not extract.refused and matches(frame)
                offer(CheckedBatch(frame, matched))
                del frame
            offer(_END)
        except BaseException as exc:  # handed to the caller, who raises it
            offer(exc)

    producer = threading.Thread(target=produce, name=f"csi-read-{table}", daemon=True)
    producer.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
            del item  # the next batch is being made: hold one batch here, not two
    finally:
        stop.set()
        producer.join()


class Lookahead:
    """Batches whose next one can be looked at (`head`, fetched when first asked) before
    it is taken."""

    def __init__(self, batches: Iterator[CheckedBatch]) -> None:
        self._batches = batches
        self._head: CheckedBatch | None = None
        self._done = False

    @property
    def head(self) -> CheckedBatch | None:
        """The next batch, None once they are all taken (raises what their source raised)."""
        if self._head is None and not self._done:
            self._head = next(self._batches, None)
            self._done = self._head is None
        return self._head

    def take(self) -> CheckedBatch:
        """The next batch, which the caller has seen in `head`."""
        taken, self._head = self.head, None
        if taken is None:
            raise IndexError("no batch left")  # a programming error: `head` was None
        return taken


@dataclass
class RunEnd:
    """What ended a run early: `error`, raised by the batches' source while it was streamed."""

    error: BaseException | None = None


def run_stream(
    batches: Lookahead, ends: Callable[[CheckedBatch], bool], limit: int | None = None
) -> tuple[pa.RecordBatchReader, RunEnd]:
    """The head batch and those after it, up to one for which `ends` is true, as one stream.

    A batch whose Arrow schema differs from the first's (another file's types) ends the
    run too, and the run stops after `limit` batches (`RUN_BATCHES` by default). Each
    batch is let go of once DuckDB has read it, and the next one fetched only then. An
    exception raised while the stream runs (fetching the next batch, or a Ctrl-C landing
    in this Python code) ends it and is kept in `RunEnd.error` for the caller to raise
    after the statement: raised inside the stream, DuckDB would turn it into an error of
    its own, and a refusal or an interruption into a traceback.
    """
    end = RunEnd()
    first = arrow_of(batches.take().frame)
    schema = first.schema
    pending = first.to_batches()
    del first

    def following() -> Iterator[pa.RecordBatch]:
        for _ in range((limit or RUN_BATCHES) - 1):
            while pending:
                yield pending.pop(0)
            head = batches.head
            if head is None or ends(head):
                return
            table = arrow_of(head.frame)
            del head
            if table.schema != schema:
                return
            batches.take()
            pending.extend(table.to_batches())
            del table
        while pending:
            yield pending.pop(0)

    def stream() -> Iterator[pa.RecordBatch]:
        try:
            yield from following()
        except GeneratorExit:  # DuckDB let go of the stream: nothing to report
            raise
        except BaseException as exc:  # raised by the caller, see above
            end.error = exc

    return pa.RecordBatchReader.from_batches(schema, stream()), end
