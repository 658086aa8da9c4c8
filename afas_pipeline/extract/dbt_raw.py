"""The dbt-duckdb plugin that lets dbt read a raw layer in object storage (the profile's
`object_store` target, chosen when the var `raw_url` is set).

DuckDB's httpfs extension cannot be installed offline, so the bucket is registered as an fsspec
filesystem on dbt's connection. The raw files a build reads are those the manifests publish
when dbt connects (build time, not parse time): each raw source becomes a view in schema
`afas_raw` over exactly those objects (`_afas__sources.yml` reads `afas_raw.<table>__<set>`).
Objects are never overwritten, so a load published meanwhile changes no file such a view reads.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from afas_pipeline.extract.storage import RawStore

RAW_SCHEMA = "afas_raw"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.raw = RawStore(plugin_config["data_dir"], plugin_config["raw_url"])

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        create_source_views(conn, self.raw)


def create_source_views(conn: DuckDBPyConnection, store: RawStore) -> list[str]:
    """(Re)create a view per raw source over the files the raw layer publishes now."""
    store.files.register(conn)
    conn.execute(f"create schema if not exists {RAW_SCHEMA}")
    views = []
    for view, files in sorted(store.source_files().items()):
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        conn.execute(
            f'create or replace view {RAW_SCHEMA}."{view}" as '
            f"select * from read_parquet([{listed}], union_by_name = true)"
        )
        views.append(view)
    return views
