"""The data directory: what lives where in it, its locks, and how its files are written.

Everything the pipeline keeps is under one folder (`AFAS_PIPELINE_DATA_DIR`, see `settings.py`):

    raw/                 the raw layer, Parquet only (`extract/storage.py` owns the layout inside;
                         with AFAS_PIPELINE_RAW_URL=s3://… it is in object storage instead)
    tmp/                 a run's scratch folders (spooled pages)
    state/               what the deletion checks remember between runs
    warehouse.duckdb     built by dbt alone, one build at a time
    marts.duckdb         the analysts' copy of the marts, swapped in whole
    marts.inputs         the digest of what the published marts were built from
    writeback.duckdb     the write-back's outbox
    dbt/                 dbt's folders, one per build, with the kept parse and output
    dagster_home/        the demo's Dagster instance

Every file is written under a temporary name beside its target and renamed into place, so a
reader sees the old file or the whole new one. Locks are `flock`s on files here: the OS drops
them when a process dies, so a killed run never leaves one behind.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import polars as pl

RAW_DIR = "raw"
TMP_DIR = "tmp"
STATE_DIR = "state"
WAREHOUSE_FILE = "warehouse.duckdb"
MARTS_FILE = "marts.duckdb"
PUBLISHED_INPUTS_FILE = "marts.inputs"  # beside marts.duckdb: the inputs it was built from
OUTBOX_FILE = "writeback.duckdb"
BUILDS_DIR = "dbt"  # dbt's target folders, one per build, and the kept parse
BUILT_INPUTS_FILE = "built.inputs"  # in BUILDS_DIR: the inputs of the last complete build
# In BUILDS_DIR: what the last complete build was built from, for the next build's choice
# between incremental and --full-refresh (warehouse.plan_build).
INCREMENTAL_STATE_FILE = "incremental.json"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # in BUILDS_DIR and in each build's folder
DBT_OUTPUT_FILE = "output.log"  # in BUILDS_DIR: dbt's output of the last quiet headless run
BUILD_PID_FILE = "dbt-build.pid"  # the running dbt build's process
DAGSTER_HOME_DIR = "dagster_home"
_WAREHOUSE_LOCK = "warehouse.lock"
_RAW_LOCK = "raw.lock"
_OUTBOX_LOCK = "writeback.lock"
_WRITEBACK_RUN_LOCK = "writeback.run.lock"


# -- locks -------------------------------------------------------------------------------------


@contextmanager
def file_lock(path: Path, *, shared: bool = False, wait: bool = True) -> Iterator[None]:
    """An advisory lock on `path`, exclusive unless `shared`. `wait=False`: raise
    BlockingIOError at once if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def warehouse_lock(data_dir: Path) -> AbstractContextManager[None]:
    """Hold the warehouse for one build (or publish); others wait instead of failing."""
    return file_lock(data_dir / _WAREHOUSE_LOCK)


def raw_lock(data_dir: Path, *, shared: bool) -> AbstractContextManager[None]:
    """Readers of the raw layer (dbt builds: shared) against writers (extraction: exclusive).

    A rename is atomic, but DuckDB opens a Parquet file more than once during a scan (footer at
    bind time, data at execution), so a day file replaced in between fails the build with "Could
    not read enough bytes" (found by tests/reliability: a backfill overlapping another run's
    dbt build). Holding this lock while extracting keeps a build's raw layer still.
    """
    return file_lock(data_dir / _RAW_LOCK, shared=shared)


def outbox_lock(data_dir: Path) -> AbstractContextManager[None]:
    """Held for every change to the outbox (one short transaction) and for its copy."""
    return file_lock(data_dir / _OUTBOX_LOCK)


def writeback_run_lock(data_dir: Path) -> AbstractContextManager[None]:
    """One write-back run at a time: raises BlockingIOError at once while another holds it."""
    return file_lock(data_dir / _WRITEBACK_RUN_LOCK, wait=False)


# -- atomic writes -----------------------------------------------------------------------------


def write_atomically(frame: pl.DataFrame, target: Path) -> None:
    """Write a Parquet file so that readers see either the old file or the whole new one."""
    replace_with(target, frame.write_parquet)


def write_bytes_atomically(content: bytes, target: Path) -> None:
    """Write a small file so that readers see either the old file or the whole new one."""
    replace_with(target, lambda path: path.write_bytes(content))


def replace_with(target: Path, write: Callable[[Path], object]) -> None:
    """Have `write` write a temporary file beside `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(target)
    try:
        write(temporary)
        fsync(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def temporary_name(target: Path) -> Path:
    """A name beside `target` that no reader's glob (`*.parquet`, ...) matches."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def sql_string(path: Path) -> str:
    """`path` inside a DuckDB string literal ('...')."""
    return str(path).replace("'", "''")
