"""The extraction as Dagster definitions, without the warehouse: dbt is not imported here.

The headless command runs these first and the warehouse only when something it reads changed,
so a run that finds nothing new never pays for importing dbt (~3.5 s of its start-up).
`definitions.py` merges them with the warehouse and the write-back into what the UI loads.
"""

import dagster as dg

from afas_pipeline.defs.extract import GROUP as EXTRACT_GROUP
from afas_pipeline.defs.extract import (
    RECONCILIATION_KEY,
    asset_key,
    build_extract_assets,
    build_reconciliation_asset,
    daily_partitions,
)
from afas_pipeline.defs.freshness import with_freshness_policy
from afas_pipeline.defs.resources import pipeline_resources
from afas_pipeline.extract.specs import extract_specs
from afas_pipeline.settings import PipelineSettings

# Read once, when the definitions load: the partition start date shapes the asset graph. The
# token and the connection settings are read from the environment when a run starts
# (AfasResource.settings), never from config; a headless run hands its own settings in.
settings = PipelineSettings.from_env()

EXTRACT_JOB = "afas_extract_job"
RECONCILE_JOB = "afas_reconcile_job"
partitions = daily_partitions(settings.start_date.isoformat())
specs = extract_specs()
# Every connector must have been read within a day: a policy per connector asset.
extract_assets = with_freshness_policy(
    build_extract_assets(specs, partitions), [asset_key(spec) for spec in specs]
)
reconciliation_asset = build_reconciliation_asset(specs, partitions)
partitioned_keys = [key for a in extract_assets if a.partitions_def for key in a.keys]

extract_job = dg.define_asset_job(
    EXTRACT_JOB,
    selection=dg.AssetSelection.groups(EXTRACT_GROUP),
    partitions_def=partitions,
    description="A day (or range) of changes, the reference data and the deletion checks, "
    "without the warehouse build.",
)

reconcile_job = dg.define_asset_job(
    RECONCILE_JOB,
    selection=dg.AssetSelection.assets(RECONCILIATION_KEY),
    description="The full reconciliation alone, without the warehouse build.",
)

extract_defs = dg.Definitions(
    assets=[*extract_assets, reconciliation_asset],
    jobs=[extract_job, reconcile_job],
    resources=pipeline_resources(settings),
)
