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
- `cleared/…parquet`: deletion flags taken back because AFAS returned the key again later (a
  bad answer had flagged it), with when; kept for the audit, and read by the incremental dbt
  build to learn which keys lost their flag since the last build.

And `<data_dir>/raw/full_reconciliations/…parquet`: what each full reconciliation healed, per
connector, administration and day (`RECONCILIATIONS_SCHEMA`).
A re-read that returns exactly the rows a file holds leaves the file as it is (its `_loaded_at`
stays that of the first load), so an unchanged raw layer is byte for byte the same and a dbt
build over it can be skipped.
Each of the four folders holds a zero-row `_schema.parquet`, so a reader's glob always matches
and knows the columns, even before the first deletion.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from afas_pipeline.datadir import RAW_DIR, TMP_DIR, fsync, temporary_name, write_atomically

PARTITION_COLUMN = "_partition"
LOADED_AT_COLUMN = "_loaded_at"
RUN_ID_COLUMN = "_run_id"
DELETED_SEEN_AT_COLUMN = "_deleted_seen_at"
DELETED_RUN_ID_COLUMN = "_deleted_run_id"
CLEARED_AT_COLUMN = "_cleared_at"
CLEARED_RUN_ID_COLUMN = "_cleared_run_id"
LOAD_COLUMNS = (PARTITION_COLUMN, LOADED_AT_COLUMN, RUN_ID_COLUMN)
DAYS, DISPLACED, DELETED, CLEARED = "days", "displaced", "deleted", "cleared"
# Folders that only ever gain files: in a batch they are written before what they account for.
_HISTORY = frozenset({DISPLACED, CLEARED})
RECONCILIATIONS = "full_reconciliations"
RECONCILIATIONS_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "reconciled_at": pl.Datetime("us", "UTC"),
        "connector": pl.String(),
        "administration_id": pl.Int64(),
        "day": pl.Date(),
        "changed_keys": pl.Int64(),
        "missing_keys": pl.Int64(),
        "deleted_keys": pl.Int64(),
        "restored_keys": pl.Int64(),
        "keys_compared": pl.Int64(),
    }
)
SCHEMA_FILE = "_schema.parquet"
# Rows read at once when spooled pages are split into day files (bounds the memory).
SPLIT_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Keep:
    """The rows a load of some administrations leaves as they are: those of the others."""

    field_id: str
    administrations: tuple[int, ...]

    def rows(self, old: pl.DataFrame) -> pl.DataFrame:
        return old.filter(~pl.col(self.field_id).is_in(self.administrations))

    def add_to(self, new: pl.DataFrame | None, old: pl.DataFrame) -> pl.DataFrame | None:
        """`new` plus the old rows of the other administrations (None if there are none)."""
        kept = self.rows(old)
        if new is None:
            return kept if kept.height else None
        return pl.concat([new, kept], how="diagonal_relaxed") if kept.height else new


@dataclass(frozen=True)
class RepeatedKey:
    """A key that came more than once in one day of a load: how often, in how many different
    contents, and in which spooled page files."""

    key: dict[str, object]
    rows: int
    variants: int
    files: tuple[str, ...]


class RawStore:
    """Paths and atomic writes of the raw layer under one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.raw_dir = self.data_dir / RAW_DIR
        self.tmp_dir = self.data_dir / TMP_DIR

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
                DELETED_RUN_ID_COLUMN: pl.String(),
            }
        )
        cleared = pl.Schema(
            {
                **deleted,
                CLEARED_AT_COLUMN: pl.Datetime("us", "UTC"),
                CLEARED_RUN_ID_COLUMN: pl.String(),
            }
        )
        folders = ((DAYS, schema), (DISPLACED, schema), (DELETED, deleted), (CLEARED, cleared))
        for kind, columns in folders:
            _ensure_schema_file(self.connector_dir(connector_id) / kind, columns)
        # The marts read the reconciliations from the first build on, before any has run.
        _ensure_schema_file(self.raw_dir / RECONCILIATIONS, RECONCILIATIONS_SCHEMA)

    def append_reconciliation(self, frame: pl.DataFrame, run_id: str) -> Path:
        """Record what a full reconciliation healed (rows of `RECONCILIATIONS_SCHEMA`)."""
        target = self.raw_dir / RECONCILIATIONS / f"{run_id}-{uuid.uuid4().hex[:8]}.parquet"
        write_atomically(frame.select(list(RECONCILIATIONS_SCHEMA)), target)
        return target

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

    def write_snapshot(
        self, connector_id: str, frame: pl.DataFrame, *, keep: Keep | None = None
    ) -> Path:
        target = self.snapshot_path(connector_id)
        old = pl.read_parquet(target) if target.exists() else None
        if keep is not None and old is not None:
            frame = pl.concat([frame, keep.rows(old)], how="diagonal_relaxed")
        if not (old is not None and _same_rows(old, frame)):
            write_atomically(frame, target)
        return target

    def append_history(self, connector_id: str, kind: str, frame: pl.DataFrame, tag: str) -> Path:
        target = self._history_path(connector_id, kind, tag)
        write_atomically(frame, target)
        return target

    def _history_path(self, connector_id: str, kind: str, tag: str) -> Path:
        return self.connector_dir(connector_id) / kind / f"{tag}-{uuid.uuid4().hex[:8]}.parquet"

    def clear_deletions(
        self,
        connector_id: str,
        key: Sequence[str],
        present: pl.LazyFrame,
        *,
        seen_at: datetime,
        run_id: str,
    ) -> int:
        """Take back the deletion flags of keys that AFAS returned again (`present`, read at
        `seen_at`, after the flag was set): a key seen again is not deleted, even when its
        unchanged re-read keeps the old `_loaded_at` (a flag counts while it is newer than
        that). The flags move to `cleared/`; returns how many were cleared."""
        files = self.history_files(connector_id, DELETED)
        if not files:
            return 0
        columns = list(key)
        keys = present.select(columns).unique().collect()
        cleared = 0
        with _Batch() as batch:
            for path in files:
                flags = pl.read_parquet(path).with_row_index("_flag")
                again = flags.join(keys, on=columns, how="semi", nulls_equal=True).filter(
                    pl.col(DELETED_SEEN_AT_COLUMN) < seen_at
                )
                if not again.height:
                    continue
                stamp = pl.lit(seen_at, dtype=pl.Datetime("us", "UTC")).alias(CLEARED_AT_COLUMN)
                tag = pl.lit(run_id, dtype=pl.String).alias(CLEARED_RUN_ID_COLUMN)
                target = self._history_path(connector_id, CLEARED, f"cleared-{run_id}")
                batch.write(again.drop("_flag").with_columns(stamp, tag), target)
                kept = flags.filter(~pl.col("_flag").is_in(again["_flag"])).drop("_flag")
                if kept.height:
                    batch.write(kept, path)
                else:
                    batch.remove(path)
                cleared += again.height
        return cleared

    def replace_days(
        self,
        connector_id: str,
        *,
        days: Sequence[date],
        spool_files: Sequence[Path],
        key: Sequence[str],
        run_id: str,
        dedupe: bool = False,
        keep: Keep | None = None,
    ) -> dict[date, int]:
        """Make each of `days` hold exactly the spooled rows of that day (with `dedupe`, a row
        spooled twice once; with `keep`, the old rows of other administrations too).

        The spooled page files carry a `_partition` column. Rows that the old file of a day held
        and the new one does not are kept under `displaced/`. Returns rows per day. Rows of a
        day outside `days` raise ValueError before any day is replaced.

        All new files are written under temporary names first and renamed into place only when
        every one of them was written: a run that fails (a full disk, an error) replaces no
        day. Only a process killed during the renames leaves some of its days replaced, each
        whole, and the displaced rows are renamed first, so no version is lost even then.
        """
        layout = _spool_layout(spool_files)
        counts = {date.fromisoformat(day): n for day, (n, _) in layout.items()}
        unexpected = set(counts) - set(days)
        if unexpected:
            raise ValueError(
                f"{connector_id}: rows outside the requested days: {sorted(unexpected)[:5]}"
            )
        replace = partial(self._replace_day, key=key, run_id=run_id, keep=keep)
        with _Batch() as batch:
            for day, frame in _frames_by_day(layout):
                replace(
                    batch, connector_id, day, frame.unique(maintain_order=True) if dedupe else frame
                )
            for day in days:
                if day not in counts:
                    replace(batch, connector_id, day, None)
        return {day: counts.get(day, 0) for day in days}

    def _replace_day(
        self,
        batch: _Batch,
        connector_id: str,
        day: date,
        new: pl.DataFrame | None,
        *,
        key: Sequence[str],
        run_id: str,
        keep: Keep | None,
    ) -> None:
        target = self.day_path(connector_id, day)
        if target.exists():
            old = pl.read_parquet(target)
            if keep is not None:
                new = keep.add_to(new, old)
            if new is not None and _same_rows(old, new):
                return
            displaced = _rows_missing_from(old, new, key)
            if displaced.height:
                batch.write(
                    displaced, self._history_path(connector_id, DISPLACED, f"{day}-{run_id}")
                )
        if new is not None:
            batch.write(new, target)
        else:
            batch.remove(target)


class _Batch:
    """Files written under temporary names and renamed into place together when the block
    ends without an error; on an error every temporary file is removed and nothing changes."""

    def __init__(self) -> None:
        self._renames: list[tuple[Path, Path]] = []
        self._removals: list[Path] = []

    def write(self, frame: pl.DataFrame, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_name(target)
        self._renames.append((temporary, target))
        frame.write_parquet(temporary)
        fsync(temporary)

    def remove(self, target: Path) -> None:
        self._removals.append(target)

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            for temporary, _target in self._renames:
                temporary.unlink(missing_ok=True)
            return
        # History first: a kill between renames may leave a version twice, never lose one.
        ordered = sorted(self._renames, key=lambda pair: pair[1].parent.name not in _HISTORY)
        for temporary, target in ordered:
            os.replace(temporary, target)
        for target in self._removals:
            target.unlink(missing_ok=True)


def _ensure_schema_file(folder: Path, schema: pl.Schema) -> None:
    """A zero-row `_schema.parquet` in `folder`, so a reader's glob matches and knows the
    columns before the first real file."""
    path = folder / SCHEMA_FILE
    if not path.exists() or pl.read_parquet_schema(path) != schema:
        write_atomically(pl.DataFrame(schema=schema), path)


def read_parquet(paths: Iterable[Path]) -> pl.DataFrame | None:
    files = [str(p) for p in paths]
    if not files:
        return None
    return pl.read_parquet(files)


def repeated_keys(spool_files: Sequence[Path], key: Sequence[str]) -> list[RepeatedKey]:
    """The keys that occur more than once in one day (`_partition`) of the spooled pages.

    One AFAS query never rightly returns a key twice, and the queries of a load cover disjoint
    days; so a repeat is AFAS answering wrongly (a row twice, or two contents for one key).
    """
    if not spool_files:
        return []
    keys = ", ".join(f'"{k}"' for k in key)
    load = {PARTITION_COLUMN, LOADED_AT_COLUMN, RUN_ID_COLUMN}
    columns = [c for c in pl.read_parquet_schema(spool_files[0]) if c not in load]
    content = ", ".join(f'"{c}"' for c in columns)
    with duckdb.connect() as con:
        found = con.execute(
            f"""
            with pages as (
                select * from read_parquet($files, filename = true, union_by_name = true)
            ),
            repeated as (
                select {PARTITION_COLUMN}, {keys} from pages group by all having count(*) > 1
            )
            select {keys}, count(*), count(distinct hash({content})), list(distinct filename)
            from pages semi join repeated using ({PARTITION_COLUMN}, {keys})
            group by {PARTITION_COLUMN}, {keys}
            order by all
            """,
            {"files": [str(p) for p in spool_files]},
        ).fetchall()
    return [
        RepeatedKey(dict(zip(key, row, strict=False)), row[-3], row[-2], tuple(sorted(row[-1])))
        for row in found
    ]


def _spool_layout(spool_files: Sequence[Path]) -> dict[str, tuple[int, set[str]]]:
    """Per `_partition` day: its row count and the spooled page files that hold it."""
    if not spool_files:
        return {}
    files = [str(p) for p in spool_files]
    with duckdb.connect() as con:
        rows = con.execute(
            f"select filename, {PARTITION_COLUMN}, count(*) "
            "from read_parquet($files, filename = true) group by all",
            {"files": files},
        ).fetchall()
    layout: dict[str, tuple[int, set[str]]] = {}
    for filename, day, n in rows:
        count, holders = layout.get(day, (0, set()))
        holders.add(filename)
        layout[day] = (count + n, holders)
    return layout


def _frames_by_day(
    layout: dict[str, tuple[int, set[str]]],
) -> Iterator[tuple[date, pl.DataFrame]]:
    """The spooled rows of each day, read in batches of about `SPLIT_BATCH_ROWS` rows.

    Only the page files of a batch's days are read, so memory follows the batch, not the
    length of the backfill (one DuckDB copy partitioned over a whole 1M-line backfill needed
    650 MB), and each day goes straight to its final file: no staging folder to write, copy
    and delete (on a slow disk that cost more than the download).
    """
    counts = {day: n for day, (n, _) in layout.items()}
    for first, last in _day_batches(counts, SPLIT_BATCH_ROWS):
        days = [day for day in counts if first <= day <= last]
        files = sorted(set().union(*(layout[day][1] for day in days)))
        batch = (
            pl.scan_parquet(files)
            .filter(pl.col(PARTITION_COLUMN).is_between(pl.lit(first), pl.lit(last)))
            .collect()
        )
        for (day,), frame in sorted(batch.partition_by(PARTITION_COLUMN, as_dict=True).items()):
            yield date.fromisoformat(str(day)), frame


def _day_batches(counts: dict[str, int], max_rows: int) -> list[tuple[str, str]]:
    """Consecutive ranges of days of at most `max_rows` rows (or one day, if bigger)."""
    batches: list[tuple[str, str]] = []
    first = last = None
    rows = 0
    for day in sorted(counts):
        if first is not None and rows + counts[day] > max_rows:
            batches.append((first, last))  # type: ignore[arg-type]
            first, rows = None, 0
        first = first or day
        last = day
        rows += counts[day]
    if first is not None:
        batches.append((first, last))  # type: ignore[arg-type]
    return batches


def _same_rows(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    """The same records, whenever and by whichever run they were loaded, in any order (pages
    read concurrently arrive in any order)."""
    if old.schema != new.schema or old.height != new.height:
        return False
    columns = [c for c in new.columns if c not in (LOADED_AT_COLUMN, RUN_ID_COLUMN)]
    return old.select(columns).sort(columns).equals(new.select(columns).sort(columns))


def _rows_missing_from(
    old: pl.DataFrame, new: pl.DataFrame | None, key: Sequence[str]
) -> pl.DataFrame:
    if new is None:
        return old
    return old.join(new.select(key), on=list(key), how="anti", nulls_equal=True)
