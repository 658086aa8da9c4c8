"""The dbt project as Dagster assets, in one lineage with the extract assets, and the marts'
publication to the analysts' database."""

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib import metadata
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
from packaging import version
from pydantic import Field

from afas_pipeline.datadir import MARTS_FILE, raw_lock, warehouse_lock
from afas_pipeline.dbt_build import (
    DBT_PROJECT_DIR,
    dbt_executable,
    ensure_manifest,
    keep_build_folder,
    new_build_folder,
    recorded_build,
    stop_orphaned_build,
)
from afas_pipeline.defs.extract import KEY_PREFIX
from afas_pipeline.defs.resources import StorageResource
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.days import amsterdam_today
from afas_pipeline.warehouse import (
    build_inputs,
    plan_build,
    publish_marts,
    record_build,
    record_built_inputs,
    up_to_date,
)
from afas_pipeline.writeback.outbox import copy_outbox_schema

ensure_manifest()  # the assets below are read from it; a fresh install has none yet
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The raw source sets of _afas__sources.yml: all but the deletions belong to the connector asset.
_DELETED_SOURCE = "afas_deleted"


class AfasDbtTranslator(DagsterDbtTranslator):
    """dbt sources become the extract assets that write them; models are grouped by layer. The
    keys and groups are those of one environment (`scope`)."""

    def __init__(self, scope: Scope = SINGLE) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.scope = scope

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            suffix = "_deletions" if dbt_resource_props["source_name"] == _DELETED_SOURCE else ""
            return self.scope.key(KEY_PREFIX, dbt_resource_props["name"] + suffix)
        return self.scope.key("warehouse", dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "dbt"
        return self.scope.name(f"warehouse_{layer}")


class _QuietSkippedBuild(logging.Filter):
    """Drop Dagster's warning, once per dbt test, that a skipped build's checks gave no result.

    A build skipped for unchanged inputs yields nothing, so the publication downstream is
    skipped too; Dagster still warns for each of the ~160 blocking checks (dbt tests) it had.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Blocking asset check 'warehouse/")
            and "warehouse_models'" in message  # the step's name: [<environment>__]warehouse_models
            and "emitted no result in step '" in message
        )


logging.getLogger("dagster._core.execution.plan.active").addFilter(_QuietSkippedBuild())


class WarehouseBuildConfig(dg.Config):
    """Run config of the dbt build (Launchpad: ops.warehouse_models.config, or
    ops.<environment>__warehouse_models.config)."""

    rebuild: bool = Field(
        default=False,
        description="Build even if nothing changed since the build the marts were published "
        "from, and from scratch (dbt --full-refresh) rather than incrementally.",
    )


def warehouse_models_for(scope: Scope) -> dg.AssetsDefinition:
    """One environment's dbt models, from the one manifest, built into its own warehouse."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=AfasDbtTranslator(scope),
        name=scope.name("warehouse_models"),
        pool=scope.pool("warehouse"),
        required_resource_keys=scope.resource_keys("dbt", "storage"),
    )
    def _models(context: AssetExecutionContext, config: WarehouseBuildConfig) -> Iterator[Any]:
        """Builds and tests the staging, intermediate and mart models in the warehouse."""
        dbt, storage = scope.resource(context, "dbt"), scope.resource(context, "storage")
        yield from build_warehouse(context, dbt, storage, config)

    return _models


def build_warehouse(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    storage: StorageResource,
    config: WarehouseBuildConfig,
) -> Iterator[Any]:
    """The build of an environment's dbt assets: dbt, on its data directory (`storage`)."""
    data = storage.path
    # The business date, Amsterdam's, passed to dbt: DuckDB's current_date is UTC's.
    today = amsterdam_today()
    with warehouse_lock(data), raw_lock(data, shared=True):
        raw = storage.raw_store()
        inputs = build_inputs(raw, today=today)
        if not (context.is_subset or config.rebuild) and up_to_date(raw, inputs):
            context.log.info(
                "Nothing to build: the raw data, the dbt project and the date are those of the "
                "published marts (launch with rebuild: true to build anyway)."
            )
            return
        record_built_inputs(data, None)
        orphan = stop_orphaned_build(data)
        if orphan is not None:
            context.log.warning(f"stopped dbt build {orphan} left running by a killed run")
        # dbt's profile and sources read the data directory from its vars.
        dbt_vars = {"today": today.isoformat(), "data_dir": str(data)}
        if storage.raw_url:  # the raw layer in object storage (dbt's object_store target)
            dbt_vars["raw_url"] = storage.raw_url
        plan = plan_build(data, dbt_vars, rebuild=config.rebuild)
        context.log.info(f"dbt build: {'full refresh, ' if plan.full_refresh else ''}{plan.reason}")
        folder = new_build_folder(data, context.run.run_id)
        try:
            build = ["build", "--vars", json.dumps(dbt_vars | plan.dbt_vars()), *plan.dbt_args()]
            invocation = dbt.cli(build, context=context, target_path=folder)
            with recorded_build(data, invocation.process.pid):
                yield from invocation.stream()
        finally:
            keep_build_folder(data, folder)
        if not context.is_subset:
            record_built_inputs(data, inputs)
            record_build(data, plan)


def marts_database_for(scope: Scope, models: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """One environment's analysts' database, published from its warehouse (`models`)."""

    @dg.asset(
        key=marts_database_key(scope),
        deps=[models],
        group_name=scope.name("analysts"),
        pool=scope.pool("warehouse"),
        kinds={"duckdb"},
        required_resource_keys=scope.resource_keys("storage"),
    )
    def _marts(context: AssetExecutionContext) -> dg.MaterializeResult:
        """The analysts' read-only copy of the marts (marts.duckdb), swapped in atomically."""
        storage: StorageResource = scope.resource(context, "storage")
        with warehouse_lock(storage.path):
            counts = publish_marts(storage.path, copy_beside=copy_outbox_schema)
        return dg.MaterializeResult(
            metadata={"path": str(storage.path / MARTS_FILE), "tables": len(counts), **counts}
        )

    return _marts


def marts_database_key(scope: Scope = SINGLE) -> dg.AssetKey:
    return scope.key("analysts", "marts_database")


# The single environment's (AFAS_ENVIRONMENTS unset), under the names they always had.
warehouse_models = warehouse_models_for(SINGLE)
marts_database = marts_database_for(SINGLE, warehouse_models)
MARTS_DATABASE_KEY = marts_database_key()


class WarehouseDbtResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-up costs these assets never use.

    Before every build it runs `dbt --version` in a subprocess (3.5 s: dbt's imports) and
    loads the project into an in-process dbt adapter (2.3 s), which serves only row counts and
    column metadata on request (measured with pyinstrument on a run of `afas-pipeline run`).
    The version is that of the installed, pinned dbt-core, which is the `dbt` this runs.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None


def dbt_resource() -> DbtCliResource:
    """The pinned dbt (see `dbt_executable`) on the project."""
    return WarehouseDbtResource(
        project_dir=os.fspath(dbt_project.project_dir),
        profiles_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
