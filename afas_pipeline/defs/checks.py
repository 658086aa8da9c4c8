"""Freshness checks of the raw layer: when did each connector last land?

Run on their own hourly schedule, so a pipeline that stopped running is noticed: a check that
runs only after a materialization can never see that nothing materialized.
"""

import time
from collections.abc import Iterator, Sequence
from datetime import timedelta

import dagster as dg

from afas_pipeline.defs.extract import asset_key
from afas_pipeline.defs.resources import StorageResource
from afas_pipeline.extract.specs import ExtractSpec

FRESHNESS_CHECK = "loaded_recently"


def build_freshness_checks(
    specs: Sequence[ExtractSpec], *, max_age: timedelta
) -> dg.AssetChecksDefinition:
    """One check per extract asset: its newest raw file is younger than `max_age`."""
    check_specs = [
        dg.AssetCheckSpec(
            FRESHNESS_CHECK,
            asset=asset_key(spec),
            description=f"{spec.name} was loaded within the last {max_age}.",
        )
        for spec in specs
    ]
    by_key = {asset_key(spec): spec for spec in specs}

    @dg.multi_asset_check(specs=check_specs, name="afas_freshness_checks", can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, storage: StorageResource
    ) -> Iterator[dg.AssetCheckResult]:
        store = storage.raw_store()
        for key in context.selected_asset_check_keys:
            spec = by_key[key.asset_key]
            folder = store.connector_dir(spec.name)
            files = list(folder.glob("days/day=*.parquet")) + list(folder.glob("snapshot.parquet"))
            newest = max((f.stat().st_mtime for f in files), default=None)
            age_s = None if newest is None else round(time.time() - newest)
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=FRESHNESS_CHECK,
                passed=age_s is not None and age_s <= max_age.total_seconds(),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"age_seconds": age_s if age_s is not None else -1},
                description=None if age_s is not None else "never loaded",
            )

    return _checks
