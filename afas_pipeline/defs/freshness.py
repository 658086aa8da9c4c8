"""Freshness of the extract assets, as Dagster's freshness policies: each connector must have
been read successfully within a time window.

The policy looks at the asset's last materialization, and an extract asset materializes after
every successful read, whether or not AFAS returned anything new. A file's age would not do: an
unchanged snapshot or day file is (rightly) not rewritten, so a connector read every night looked
stale. Dagster's daemon evaluates the policies on its own (every 30 s), so a pipeline that stopped
running is noticed too; the UI shows each asset's freshness.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import dagster as dg

# The daily close reads every connector once a night; two hours of slack for a slow night.
EXTRACT_FAIL_WINDOW = timedelta(hours=26)
EXTRACT_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=EXTRACT_FAIL_WINDOW)


def with_freshness_policy(
    assets: Sequence[dg.AssetsDefinition], keys: Iterable[dg.AssetKey]
) -> list[dg.AssetsDefinition]:
    """`assets`, with the extract freshness policy on the assets of `keys`."""
    fresh = set(keys)

    def policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        return (
            spec.replace_attributes(freshness_policy=EXTRACT_FRESHNESS)
            if spec.key in fresh
            else spec
        )

    return [a.map_asset_specs(policy) if fresh & a.keys else a for a in assets]
