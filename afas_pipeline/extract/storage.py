"""The raw layer: Parquet files per connector and partition day, replaced atomically, in the
local folder `<data_dir>/raw` or in S3-compatible object storage (`AFAS_PIPELINE_RAW_URL`).

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

In object storage the layout is the same, but nothing is renamed: every file is an object
written once under a unique name, and a manifest per top folder names the current ones; a new
manifest generation publishes a batch (`_ObjectFiles`). Readers ask `RawStore` for the files
(`day_files`, `history_files`, `snapshot_file`, `source_files`) and read them with its `scan`
and `read`, never by globbing a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

from afas_pipeline.datadir import RAW_DIR, TMP_DIR, fsync, temporary_name
from afas_pipeline.extract.objectstore import (
    ObjectStoreSettings,
    bucket_path,
    is_object_url,
    object_url,
)

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


# A raw file as readers take it: a local path, or an object's `s3://` URL.
RawPath = Path | str
MANIFESTS = "_manifests"  # in object storage: `<top folder>/_manifests/<shard>/<generation>.json`
# Manifests per shard folder: finding the newest lists two short folders, however many loads.
MANIFESTS_PER_SHARD = 1000


class RawLayerError(RuntimeError):
    """The raw layer in object storage is not as this pipeline wrote it."""


class RawLayerConflict(RawLayerError):
    """Another writer published the same folder of the raw layer in object storage meanwhile."""


class RawStore:
    """The raw layer of one data directory: its layout, reads and atomic writes, in the local
    folder `<data_dir>/raw` or, with `raw_url` `s3://bucket/prefix`, in object storage.

    Files are named by where they are in the layout (`<connector>/days/day=….parquet`); the
    backend (`_LocalFiles`, `_ObjectFiles`) alone knows how a name is stored and how a batch of
    writes is made visible at once.
    """

    def __init__(self, data_dir: Path | str, raw_url: str | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.raw_dir = self.data_dir / RAW_DIR  # the local layout's folder
        self.tmp_dir = self.data_dir / TMP_DIR
        self.raw_url = raw_url or None
        self.files: _Files = (
            _ObjectFiles(raw_url, ObjectStoreSettings.from_env())
            if raw_url and is_object_url(raw_url)
            else _LocalFiles(self.raw_dir)
        )

    def snapshot_path(self, connector_id: str) -> Path:
        """Where the local layout keeps a connector's snapshot (tests look at the files)."""
        return self.raw_dir / _snapshot_name(connector_id)

    def snapshot_file(self, connector_id: str) -> RawPath | None:
        return self.files.find(_snapshot_name(connector_id))

    def read_snapshot(self, connector_id: str) -> pl.DataFrame | None:
        """The whole connector as last loaded, or None if never."""
        found = self.snapshot_file(connector_id)
        return None if found is None else self.read(found)

    def day_path(self, connector_id: str, day: date) -> Path:
        """Where the local layout keeps a connector's day (tests look at the files)."""
        return self.raw_dir / _day_name(connector_id, day)

    def day_file(self, connector_id: str, day: date) -> RawPath | None:
        return self.files.find(_day_name(connector_id, day))

    def day_files(self, connector_id: str) -> list[RawPath]:
        return [path for name, path in self._listing(connector_id, DAYS) if name.startswith("day=")]

    def history_files(self, connector_id: str, kind: str) -> list[RawPath]:
        """The files of `displaced` or `deleted` records of a connector (not the schema file)."""
        return [path for name, path in self._listing(connector_id, kind) if name != SCHEMA_FILE]

    def loaded_days(self, connector_id: str) -> list[date]:
        return [
            date.fromisoformat(name.removeprefix("day=").removesuffix(".parquet"))
            for name, _ in self._listing(connector_id, DAYS)
            if name.startswith("day=")
        ]

    def source_files(self) -> dict[str, list[RawPath]]:
        """What each raw source of the dbt project reads, by `<table>__<set>`: the snapshot of
        a reference connector, the `versions` (days and displaced rows), `deleted` records and
        `cleared` deletion flags of a partitioned one, and the `reconciliations`; schema files
        included, so that an empty set still has its columns."""
        sources: dict[str, list[RawPath]] = {}
        for top in self.files.folders():
            if top == RECONCILIATIONS:
                sources[f"{top}__reconciliations"] = [p for _, p in self.files.listing(top)]
                continue
            snapshot = self.snapshot_file(top)
            if snapshot is not None:
                sources[f"{top}__snapshot"] = [snapshot]
            versions = self._listing(top, DAYS) + self._listing(top, DISPLACED)
            if versions:
                sources[f"{top}__versions"] = [p for _, p in versions]
            for kind in (DELETED, CLEARED):
                files = self._listing(top, kind)
                if files:
                    sources[f"{top}__{kind}"] = [p for _, p in files]
        return sources

    def _listing(self, connector_id: str, kind: str) -> list[tuple[str, RawPath]]:
        return self.files.listing(f"{connector_id}/{kind}")

    def read(self, files: RawPath | Sequence[RawPath]) -> pl.DataFrame:
        return self.scan(files).collect()

    def scan(self, files: RawPath | Sequence[RawPath]) -> pl.LazyFrame:
        sources = [str(files)] if isinstance(files, Path | str) else [str(f) for f in files]
        return pl.scan_parquet(sources, storage_options=self.files.storage_options)

    def digest(self) -> bytes:
        """What identifies the raw layer's content: in a local folder its files' bytes, in
        object storage its manifests (every object is written once, under a unique name)."""
        return self.files.digest()

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
        wanted = {f"{connector_id}/{kind}": columns for kind, columns in folders}
        # The marts read the reconciliations from the first build on, before any has run.
        wanted[RECONCILIATIONS] = RECONCILIATIONS_SCHEMA
        with self.files.batch() as batch:
            for folder, columns in wanted.items():
                name = f"{folder}/{SCHEMA_FILE}"
                found = batch.find(name)
                if found is None or self.scan(found).collect_schema() != columns:
                    batch.write(pl.DataFrame(schema=columns), name)

    def append_reconciliation(self, frame: pl.DataFrame, run_id: str) -> RawPath:
        """Record what a full reconciliation healed (rows of `RECONCILIATIONS_SCHEMA`)."""
        name = f"{RECONCILIATIONS}/{run_id}-{uuid.uuid4().hex[:8]}.parquet"
        return self._write_one(frame.select(list(RECONCILIATIONS_SCHEMA)), name)

    def _write_one(self, frame: pl.DataFrame, name: str) -> RawPath:
        with self.files.batch() as batch:
            batch.write(frame, name)
        return self.files.find(name) or name

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
    ) -> RawPath:
        name = _snapshot_name(connector_id)
        old = self.read_snapshot(connector_id)
        if keep is not None and old is not None:
            frame = pl.concat([frame, keep.rows(old)], how="diagonal_relaxed")
        if old is not None and _same_rows(old, frame):
            return self.files.find(name) or name
        return self._write_one(frame, name)

    def append_history(
        self, connector_id: str, kind: str, frame: pl.DataFrame, tag: str
    ) -> RawPath:
        return self._write_one(frame, _history_name(connector_id, kind, tag))

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
        files = [
            (f"{connector_id}/{DELETED}/{name}", path)
            for name, path in self._listing(connector_id, DELETED)
            if name != SCHEMA_FILE
        ]
        if not files:
            return 0
        columns = list(key)
        keys = present.select(columns).unique().collect()
        cleared = 0
        with self.files.batch() as batch:
            for name, path in files:
                flags = self.read(path).with_row_index("_flag")
                again = flags.join(keys, on=columns, how="semi", nulls_equal=True).filter(
                    pl.col(DELETED_SEEN_AT_COLUMN) < seen_at
                )
                if not again.height:
                    continue
                stamp = pl.lit(seen_at, dtype=pl.Datetime("us", "UTC")).alias(CLEARED_AT_COLUMN)
                tag = pl.lit(run_id, dtype=pl.String).alias(CLEARED_RUN_ID_COLUMN)
                target = _history_name(connector_id, CLEARED, f"cleared-{run_id}")
                batch.write(again.drop("_flag").with_columns(stamp, tag), target)
                kept = flags.filter(~pl.col("_flag").is_in(again["_flag"])).drop("_flag")
                if kept.height:
                    batch.write(kept, name)
                else:
                    batch.remove(name)
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

        All new files are written first and made visible together only when every one of them
        was written (`_Files.batch`): a run that fails (a full disk, an error) replaces no day.
        Locally only a process killed during the renames leaves some of its days replaced, each
        whole, and the displaced rows are renamed first, so no version is lost even then; in
        object storage one new manifest publishes them all at once.
        """
        layout = _spool_layout(spool_files)
        counts = {date.fromisoformat(day): n for day, (n, _) in layout.items()}
        unexpected = set(counts) - set(days)
        if unexpected:
            raise ValueError(
                f"{connector_id}: rows outside the requested days: {sorted(unexpected)[:5]}"
            )
        replace = partial(self._replace_day, key=key, run_id=run_id, keep=keep)
        with self.files.batch() as batch:
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
        target = _day_name(connector_id, day)
        found = batch.find(target)
        if found is not None:
            old = self.read(found)
            if keep is not None:
                new = keep.add_to(new, old)
            if new is not None and _same_rows(old, new):
                return
            displaced = _rows_missing_from(old, new, key)
            if displaced.height:
                batch.write(displaced, _history_name(connector_id, DISPLACED, f"{day}-{run_id}"))
        if new is not None:
            batch.write(new, target)
        else:
            batch.remove(target)


def _snapshot_name(connector_id: str) -> str:
    return f"{connector_id}/snapshot.parquet"


def _day_name(connector_id: str, day: date) -> str:
    return f"{connector_id}/{DAYS}/day={day.isoformat()}.parquet"


def _history_name(connector_id: str, kind: str, tag: str) -> str:
    return f"{connector_id}/{kind}/{tag}-{uuid.uuid4().hex[:8]}.parquet"


class _Batch(Protocol):
    """Writes that become visible together when the block ends without an error; on an error
    none of them does."""

    def write(self, frame: pl.DataFrame, name: str) -> None: ...

    def remove(self, name: str) -> None: ...

    def find(self, name: str) -> RawPath | None:
        """The current file of `name`, as the batch will publish over it."""
        ...

    def __enter__(self) -> _Batch: ...

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None: ...


class _Files(Protocol):
    """Where the raw layer's files are stored, by their names in the layout."""

    storage_options: dict[str, str] | None

    def listing(self, folder: str) -> list[tuple[str, RawPath]]:
        """The current `*.parquet` files directly in `folder`, as (file name, path), by name."""
        ...

    def find(self, name: str) -> RawPath | None: ...

    def folders(self) -> list[str]:
        """The top folders: one per connector, and the reconciliations."""
        ...

    def batch(self) -> _Batch: ...

    def digest(self) -> bytes: ...

    def register(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB's `read_parquet` on `conn` read these files."""
        ...


class _LocalFiles:
    """The raw layer in a local folder: each file replaced whole by a rename."""

    storage_options: dict[str, str] | None = None

    def __init__(self, root: Path) -> None:
        self.root = root

    def listing(self, folder: str) -> list[tuple[str, RawPath]]:
        return [(p.name, p) for p in sorted((self.root / folder).glob("*.parquet"))]

    def find(self, name: str) -> RawPath | None:
        path = self.root / name
        return path if path.exists() else None

    def folders(self) -> list[str]:
        return (
            sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.exists() else []
        )

    def batch(self) -> _Batch:
        return _RenameBatch(self)

    def digest(self) -> bytes:
        digest = hashlib.sha256()
        files = sorted(p for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else []
        for path in files:
            digest.update(f"\0{path}\0".encode())
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.digest()

    def register(self, conn: duckdb.DuckDBPyConnection) -> None:
        pass  # DuckDB reads local files itself


class _RenameBatch:
    """Files written under temporary names and renamed into place together when the block
    ends without an error; on an error every temporary file is removed and nothing changes."""

    def __init__(self, files: _LocalFiles) -> None:
        self._files = files
        self._root = files.root
        self._renames: list[tuple[Path, Path]] = []
        self._removals: list[Path] = []

    def find(self, name: str) -> RawPath | None:
        return self._files.find(name)

    def write(self, frame: pl.DataFrame, name: str) -> None:
        target = self._root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_name(target)
        self._renames.append((temporary, target))
        frame.write_parquet(temporary)
        fsync(temporary)

    def remove(self, name: str) -> None:
        self._removals.append(self._root / name)

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


@dataclass(frozen=True)
class Manifest:
    """One generation of a top folder in object storage: which object each file name of the
    layout is now (names relative to the folder). Generation 0: nothing published yet."""

    generation: int = 0
    files: dict[str, str] = field(default_factory=dict)
    writer: str = ""

    def to_json(self) -> bytes:
        content = {"generation": self.generation, "writer": self.writer, "files": self.files}
        return json.dumps(content, indent=1, sort_keys=True).encode()


class _ObjectFiles:
    """The raw layer in object storage, where nothing is renamed, overwritten or locked.

    Every object is written once under a unique name (`days/day=2025-01-01.<id>.parquet`). A
    top folder's manifest says which object each name of the layout is now; a batch is
    published by writing the next generation, `_manifests/<shard>/<generation>.json`, a new
    object too: a reader lists the manifests and takes the newest, which is whole (a PUT is),
    and names only objects written before it. The next generation is created with
    `If-None-Match: *`, so a second writer that built on the same generation is refused
    (`RawLayerConflict`) instead of overwriting it; a server that ignores the condition is
    caught by reading the manifest back. Superseded objects and manifests are kept (the
    history of every load, as the local layer keeps displaced rows): `superseded()` lists them
    for a lifecycle rule or an operator to remove.
    """

    def __init__(self, url: str, settings: ObjectStoreSettings) -> None:
        self.fs = settings.filesystem()
        self.root = bucket_path(url)
        self.storage_options: dict[str, str] | None = settings.polars_options()

    def listing(self, folder: str) -> list[tuple[str, RawPath]]:
        top, _, inner = folder.partition("/")
        prefix = f"{inner}/" if inner else ""
        found = []
        for name, key in self.manifest(top).files.items():
            rest = name.removeprefix(prefix)
            if name.startswith(prefix) and "/" not in rest and rest.endswith(".parquet"):
                found.append((rest, self._url(top, key)))
        return sorted(found)

    def find(self, name: str) -> RawPath | None:
        top, _, inner = name.partition("/")
        key = self.manifest(top).files.get(inner)
        return None if key is None else self._url(top, key)

    def folders(self) -> list[str]:
        try:
            entries = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return []
        return sorted(e["name"].rsplit("/", 1)[-1] for e in entries if e["type"] == "directory")

    def batch(self) -> _Batch:
        return _PublishBatch(self)

    def register(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.register_filesystem(self.fs)

    def digest(self) -> bytes:
        digest = hashlib.sha256()
        for top in self.folders():
            digest.update(f"\0{top}\0".encode() + self.manifest(top).to_json())
        return digest.digest()

    def manifest(self, top: str) -> Manifest:
        """The newest published manifest of a top folder (listing its newest shard)."""
        shards = self._names(self._manifests(top))
        names = self._names(f"{self._manifests(top)}/{max(shards)}") if shards else []
        generations = [n for n in names if n.endswith(".json")]
        if not generations:
            return Manifest()
        newest = f"{self._manifests(top)}/{max(shards)}/{max(generations)}"
        try:
            content = json.loads(self.fs.cat_file(newest))
            manifest = Manifest(content["generation"], dict(content["files"]), content["writer"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RawLayerError(f"raw manifest {object_url(newest)} is not one: {exc}") from None
        if self._manifest_path(top, manifest.generation) != newest:
            raise RawLayerError(f"raw manifest {object_url(newest)} names another generation")
        return manifest

    def _names(self, folder: str) -> list[str]:
        try:
            return [path.rsplit("/", 1)[-1] for path in self.fs.ls(folder, detail=False)]
        except FileNotFoundError:
            return []

    def publish(self, top: str, manifest: Manifest) -> None:
        """Create the manifest's generation, refused if another writer created it first."""
        path = self._manifest_path(top, manifest.generation)
        try:
            self.fs.pipe_file(path, manifest.to_json(), mode="create")
        except OSError:
            if not self.fs.exists(path):
                raise
        published = json.loads(self.fs.cat_file(path))
        if published.get("writer") != manifest.writer:
            raise RawLayerConflict(
                f"raw layer {object_url(self.root)}/{top}: another writer published manifest "
                f"generation {manifest.generation} while this run wrote; this run's files were "
                "not published (one writer per raw layer: run one pipeline per environment)"
            )

    def superseded(self) -> list[str]:
        """Objects no newest manifest names: replaced files, older manifests, and the files of
        a run that failed before it published."""
        current: set[str] = set()
        for top in self.folders():
            manifest = self.manifest(top)
            current.update(f"{self.root}/{top}/{key}" for key in manifest.files.values())
            current.add(self._manifest_path(top, manifest.generation))
        every = self.fs.find(self.root)
        return [object_url(path) for path in sorted(every) if path not in current]

    def write(self, frame: pl.DataFrame, top: str, name: str) -> str:
        """Write a new object for `name` (relative to `top`); returns its key in `top`."""
        stem, dot, suffix = name.rpartition(".")
        key = f"{stem}.{uuid.uuid4().hex[:12]}{dot}{suffix}"
        with self.fs.open(f"{self.root}/{top}/{key}", "wb") as handle:
            frame.write_parquet(handle)
        return key

    def discard(self, top: str, keys: Sequence[str]) -> None:
        """Remove objects that no manifest ever named (a batch that failed)."""
        self.fs.rm([f"{self.root}/{top}/{key}" for key in keys])

    def _manifests(self, top: str) -> str:
        return f"{self.root}/{top}/{MANIFESTS}"

    def _manifest_path(self, top: str, generation: int) -> str:
        shard = generation // MANIFESTS_PER_SHARD
        return f"{self._manifests(top)}/{shard:09d}/{generation:012d}.json"

    def _url(self, top: str, key: str) -> str:
        return object_url(f"{self.root}/{top}/{key}")


# One writer per top folder within a process: the loads of one run go in parallel threads and
# several of them ensure the reconciliations' schema file. Between processes the manifest's
# conditional create is the guard. Reentrant: a thread may nest batches.
_FOLDER_LOCKS: dict[str, threading.RLock] = {}
_FOLDER_LOCKS_GUARD = threading.Lock()


def _folder_lock(path: str) -> threading.RLock:
    with _FOLDER_LOCKS_GUARD:
        return _FOLDER_LOCKS.setdefault(path, threading.RLock())


class _PublishBatch:
    """Objects written at once; each touched top folder's next manifest is published when the
    block ends without an error. On an error nothing is published and the objects go. A
    folder is held (`_folder_lock`) from its first write in the batch to its publication."""

    def __init__(self, files: _ObjectFiles) -> None:
        self._files = files
        self._writer = uuid.uuid4().hex
        self._bases: dict[str, Manifest] = {}
        self._changes: dict[str, dict[str, str | None]] = {}
        self._written: dict[str, list[str]] = {}
        self._held: list[threading.RLock] = []

    def write(self, frame: pl.DataFrame, name: str) -> None:
        top, inner = self._touch(name)
        key = self._files.write(frame, top, inner)
        self._written[top].append(key)
        self._changes[top][inner] = key

    def remove(self, name: str) -> None:
        top, inner = self._touch(name)
        self._changes[top][inner] = None

    def find(self, name: str) -> RawPath | None:
        top, inner = self._touch(name)
        key = self._changes[top].get(inner, self._bases[top].files.get(inner))
        return None if key is None else self._files._url(top, key)

    def _touch(self, name: str) -> tuple[str, str]:
        top, _, inner = name.partition("/")
        if top not in self._bases:
            lock = _folder_lock(f"{self._files.root}/{top}")
            lock.acquire()
            self._held.append(lock)
            self._bases[top] = self._files.manifest(top)
            self._changes[top], self._written[top] = {}, []
        return top, inner

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is not None:
                self._discard_all()
            else:
                self._publish_all()
        finally:
            for lock in reversed(self._held):
                lock.release()

    def _publish_all(self) -> None:
        for top, base in self._bases.items():
            files = dict(base.files)
            for inner, key in self._changes[top].items():
                if key is None:
                    files.pop(inner, None)
                else:
                    files[inner] = key
            if files == base.files:
                continue
            try:
                self._files.publish(top, Manifest(base.generation + 1, files, self._writer))
            except BaseException:
                self._discard_all(after=top)
                raise

    def _discard_all(self, after: str | None = None) -> None:
        """Remove the objects of the folders not published (from `after` on, or all)."""
        tops = list(self._bases)
        for top in tops[tops.index(after) :] if after else tops:
            if self._written[top]:
                self._files.discard(top, self._written[top])


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
