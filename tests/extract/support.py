"""Helpers for extraction tests: clients against the simulator and the ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from afas_pipeline.afas import AfasClient, AfasSettings, RetryPolicy
from afas_pipeline.extract.days import DayRange
from afas_pipeline.extract.loader import load_days, load_snapshot
from afas_pipeline.extract.specs import ExtractSpec
from afas_pipeline.extract.storage import LOAD_COLUMNS, RawStore
from tests.conftest import HISTORY_START, Simulator

# Retries stay real (backoff, jitter) but fast, so fault tests take seconds.
FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05, total_timeout=5)


def client_for(simulator: Simulator, *, retry: RetryPolicy = FAST_RETRY, **kwargs) -> AfasClient:
    settings = AfasSettings.create(token=simulator.token, base_url=simulator.base_url)
    return AfasClient(settings, retry=retry, **kwargs)


def load_range(
    simulator: Simulator,
    store: RawStore,
    spec: ExtractSpec,
    first: date,
    last: date,
    run_id: str,
    *,
    administrations: list[int] | None = None,
) -> None:
    """Load `first..last` as the extract step does (every administration unless given)."""
    with client_for(simulator) as client:
        load_days(
            client,
            store,
            spec,
            DayRange.inclusive(first, last),
            administrations=administrations,
            run_id=run_id,
            first_partition=HISTORY_START,
        )


def load_whole(simulator: Simulator, store: RawStore, spec: ExtractSpec, run_id: str) -> None:
    with client_for(simulator) as client:
        load_snapshot(client, store, spec, administrations=None, run_id=run_id)


def raw_days(store: RawStore, spec: ExtractSpec) -> pl.DataFrame:
    """Every row of every day file, with its `_partition`, sorted by key."""
    files = store.day_files(spec.name)
    return pl.read_parquet(files).sort(spec.key) if files else pl.DataFrame()


def without_load_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in frame.columns if c.startswith("_")])


def file_contents(folder: Path) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """The data (without load columns) of every Parquet file under `folder`, by relative name,
    as comparable columns and sorted rows."""
    contents = {}
    for path in sorted(folder.rglob("*.parquet")):
        frame = without_load_columns(pl.read_parquet(path))
        contents[str(path.relative_to(folder))] = (
            tuple(frame.columns),
            frame.sort(frame.columns).rows() if frame.columns else [],
        )
    return contents


def truth_by_day(frame: pl.DataFrame, modification_field: str) -> pl.DataFrame:
    """AFAS's rows with the partition day each belongs in (the first day holds all before it)."""
    day = pl.max_horizontal(pl.col(modification_field).dt.date(), pl.lit(HISTORY_START))
    return frame.with_columns(day.cast(pl.String).alias("_day"))


__all__ = ["LOAD_COLUMNS"]
