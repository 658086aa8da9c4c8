"""The raw layer: Parquet files per connector and partition day, replaced atomically.

Extraction never opens a DuckDB database file, so runs never wait for DuckDB's single-writer
lock and an analyst's open database never blocks them. Every file is written under a temporary
name in its final folder and renamed into place, so a reader (dbt, a test, another run) sees the
old partition or the new one, never half of one.

Layout under `<data_dir>/raw/<connector>/`:
- `days/day=YYYY-MM-DD.parquet`: the rows whose modification time falls on that day
  (partitioned connectors); a day without rows has no file.
- `snapshot.parquet`: the whole connector (reference and control connectors).
- `displaced/…parquet`: rows that a re-read of a day no longer returned (changed again later, or
  deleted), kept so that no version once loaded is ever lost.
- `deleted/…parquet`: the last known version of records AFAS deleted, with when that was seen.
Each of the three folders holds a zero-row `_schema.parquet`, so a reader's glob always matches
and knows the columns, even before the first deletion.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

PARTITION_COLUMN = "_partition"
LOADED_AT_COLUMN = "_loaded_at"
RUN_ID_COLUMN = "_run_id"
DELETED_SEEN_AT_COLUMN = "_deleted_seen_at"
DELETED_RUN_ID_COLUMN = "_deleted_run_id"
LOAD_COLUMNS = (PARTITION_COLUMN, LOADED_AT_COLUMN, RUN_ID_COLUMN)
DAYS, DISPLACED, DELETED = "days", "displaced", "deleted"
SCHEMA_FILE = "_schema.parquet"


class RawStore:
    """Paths and atomic writes of the raw layer under one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.raw_dir = self.data_dir / "raw"
        self.tmp_dir = self.data_dir / "tmp"

    def connector_dir(self, connector_id: str) -> Path:
        return self.raw_dir / connector_id

    def day_path(self, connector_id: str, day: date) -> Path:
        return self.connector_dir(connector_id) / DAYS / f"day={day.isoformat()}.parquet"

    def snapshot_path(self, connector_id: str) -> Path:
        return self.connector_dir(connector_id) / "snapshot.parquet"

    def day_files(self, connector_id: str) -> list[Path]:
        return sorted((self.connector_dir(connector_id) / DAYS).glob("day=*.parquet"))

    def history_files(self, connector_id: str, kind: str) -> list[Path]:
        """The files of `displaced` or `deleted` records of a connector (not the schema file)."""
        folder = self.connector_dir(connector_id) / kind
        return sorted(p for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE)

    def ensure_schema_files(self, connector_id: str, schema: pl.Schema) -> None:
        """Write the zero-row `_schema.parquet` of each folder of a partitioned connector."""
        deleted = pl.Schema(
            {
                **schema,
                DELETED_SEEN_AT_COLUMN: pl.Datetime("us", "UTC"),
                DELETED_RUN_ID_COLUMN: pl.String,
            }
        )
        for kind, columns in ((DAYS, schema), (DISPLACED, schema), (DELETED, deleted)):
            path = self.connector_dir(connector_id) / kind / SCHEMA_FILE
            if not path.exists() or pl.read_parquet_schema(path) != columns:
                write_atomically(pl.DataFrame(schema=columns), path)

    def loaded_days(self, connector_id: str) -> list[date]:
        return [
            date.fromisoformat(p.stem.removeprefix("day=")) for p in self.day_files(connector_id)
        ]

    def run_dir(self, run_id: str, name: str) -> Path:
        """A private scratch folder for one run; removed by `discard_run_dir`."""
        path = self.tmp_dir / f"{run_id}-{uuid.uuid4().hex[:8]}" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def discard_run_dir(path: Path) -> None:
        shutil.rmtree(path.parent, ignore_errors=True)

    def write_snapshot(self, connector_id: str, frame: pl.DataFrame) -> Path:
        target = self.snapshot_path(connector_id)
        write_atomically(frame, target)
        return target

    def append_history(self, connector_id: str, kind: str, frame: pl.DataFrame, tag: str) -> Path:
        target = self.connector_dir(connector_id) / kind / f"{tag}-{uuid.uuid4().hex[:8]}.parquet"
        write_atomically(frame, target)
        return target

    def replace_days(
        self,
        connector_id: str,
        *,
        days: Sequence[date],
        spool_files: Sequence[Path],
        key: Sequence[str],
        run_id: str,
    ) -> dict[date, int]:
        """Make each of `days` hold exactly the spooled rows of that day.

        The spooled page files carry a `_partition` column. Rows that the old file of a day held
        and the new one does not are first kept under `displaced/`. Returns rows per day.
        """
        stage = self.run_dir(run_id, f"split-{connector_id}")
        try:
            counts = _split_by_day(spool_files, stage)
            for day in days:
                new_file = stage / f"{PARTITION_COLUMN}={day.isoformat()}" / "data_0.parquet"
                self._replace_day(connector_id, day, new_file, key=key, run_id=run_id)
            unexpected = set(counts) - set(days)
            if unexpected:
                raise ValueError(
                    f"{connector_id}: rows outside the requested days: {sorted(unexpected)[:5]}"
                )
            return {day: counts.get(day, 0) for day in days}
        finally:
            self.discard_run_dir(stage)

    def _replace_day(
        self, connector_id: str, day: date, new_file: Path, *, key: Sequence[str], run_id: str
    ) -> None:
        target = self.day_path(connector_id, day)
        has_new = new_file.exists()
        if target.exists():
            displaced = _rows_missing_from(target, new_file if has_new else None, key)
            if displaced.height:
                self.append_history(connector_id, DISPLACED, displaced, f"{day}-{run_id}")
        if has_new:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            shutil.copyfile(new_file, temporary)
            _fsync(temporary)
            os.replace(temporary, target)
        else:
            target.unlink(missing_ok=True)


def write_atomically(frame: pl.DataFrame, target: Path) -> None:
    """Write a Parquet file so that readers see either the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(temporary)
        _fsync(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def read_parquet(paths: Iterable[Path]) -> pl.DataFrame | None:
    files = [str(p) for p in paths]
    if not files:
        return None
    return pl.read_parquet(files)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _split_by_day(spool_files: Sequence[Path], stage: Path) -> dict[date, int]:
    """Write the spooled rows to one file per `_partition` day; return rows per day."""
    if not spool_files:
        return {}
    files = [str(p) for p in spool_files]
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_parquet($files)) to '{_sql_path(stage)}' "
            f"(format parquet, partition_by ({PARTITION_COLUMN}), write_partition_columns true, "
            "overwrite true)",
            {"files": files},
        )
        counts = con.execute(
            f"select {PARTITION_COLUMN}, count(*) from read_parquet($files) group by all",
            {"files": files},
        ).fetchall()
    return {date.fromisoformat(day): n for day, n in counts}


def _rows_missing_from(old_file: Path, new_file: Path | None, key: Sequence[str]) -> pl.DataFrame:
    old = pl.read_parquet(old_file)
    if new_file is None:
        return old
    new_keys = pl.read_parquet(new_file, columns=list(key))
    return old.join(new_keys, on=list(key), how="anti", nulls_equal=True)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
