"""The reference data the raw layer holds, as the write-back's validation asks for it
(`writeback.validation.LoadedReference`): what the pipeline already loaded, so checking a
correction costs AFAS no extra reads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from afas_pipeline.extract.storage import DELETED, DELETED_SEEN_AT_COLUMN, RawStore


class RawReference:
    """Reads of the raw layer of one data directory for the validation of corrections."""

    def __init__(self, data_dir: Path | str, raw_url: str | None = None) -> None:
        self.store = RawStore(data_dir, raw_url)

    def snapshot(self, connector_id: str) -> pl.DataFrame | None:
        """The whole connector as last loaded (reference connectors), or None if never."""
        return self.store.read_snapshot(connector_id)

    def newest_records(
        self, connector_id: str, key: str, ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The newest loaded version of each record of `ids` (a change-tracked connector), by
        its key as text; records AFAS deleted are left out."""
        files = self.store.day_files(connector_id)
        if not files:
            return {}
        newest = (
            self.store.scan(files)
            .filter(pl.col(key).is_in(sorted(ids)))
            .sort("Mutatie_datum")
            .group_by(key)
            .last()
            .collect()
        )
        deleted_files = self.store.history_files(connector_id, DELETED)
        gone: set[str] = set()
        if deleted_files:
            deleted = self.store.scan(deleted_files).select(key, DELETED_SEEN_AT_COLUMN).collect()
            gone = {str(v) for v in deleted[key].to_list()}
        rows = newest.iter_rows(named=True)
        return {str(row[key]): row for row in rows if str(row[key]) not in gone}
