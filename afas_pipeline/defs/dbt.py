"""The dbt project as Dagster assets, in one lineage with the extract assets, and the marts'
publication to the analysts' database."""

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from afas_pipeline.defs.extract import KEY_PREFIX
from afas_pipeline.defs.resources import StorageResource
from afas_pipeline.warehouse import (
    DBT_PROJECT_DIR,
    publish_marts,
    raw_lock,
    recorded_build,
    stop_orphaned_build,
    warehouse_lock,
)

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MARTS_DATABASE_KEY = dg.AssetKey(["analysts", "marts_database"])
# The raw source sets of _afas__sources.yml: all but the deletions belong to the connector asset.
_DELETED_SOURCE = "afas_deleted"


class AfasDbtTranslator(DagsterDbtTranslator):
    """dbt sources become the extract assets that write them; models are grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            suffix = "_deletions" if dbt_resource_props["source_name"] == _DELETED_SOURCE else ""
            return dg.AssetKey([KEY_PREFIX, dbt_resource_props["name"] + suffix])
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "dbt"
        return f"warehouse_{layer}"


translator = AfasDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def warehouse_models(
    context: AssetExecutionContext, dbt: DbtCliResource, storage: StorageResource
) -> Iterator[Any]:
    """Builds and tests the staging, intermediate and mart models in the warehouse."""
    os.environ["AFAS_PIPELINE_DATA_DIR"] = str(storage.path)  # dbt's profile reads it
    with warehouse_lock(storage.path), raw_lock(storage.path, shared=True):
        orphan = stop_orphaned_build(storage.path)
        if orphan is not None:
            context.log.warning(f"stopped dbt build {orphan} left running by a killed run")
        invocation = dbt.cli(["build"], context=context)
        with recorded_build(storage.path, invocation.process.pid):
            yield from invocation.stream()


@dg.asset(
    key=MARTS_DATABASE_KEY,
    deps=[warehouse_models],
    group_name="analysts",
    pool="warehouse",
    kinds={"duckdb"},
)
def marts_database(storage: StorageResource) -> dg.MaterializeResult:
    """The analysts' read-only copy of the marts (marts.duckdb), swapped in atomically."""
    with warehouse_lock(storage.path):
        counts = publish_marts(storage.path)
    return dg.MaterializeResult(
        metadata={"path": str(storage.path / "marts.duckdb"), "tables": len(counts), **counts}
    )


def dbt_resource() -> DbtCliResource:
    """dbt from PATH, else the one installed beside this Python (a venv not on PATH)."""
    beside = Path(sys.executable).with_name("dbt")
    executable = shutil.which("dbt") or (str(beside) if beside.exists() else "dbt")
    return DbtCliResource(project_dir=dbt_project, dbt_executable=executable)
