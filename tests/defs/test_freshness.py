"""Freshness: Dagster's freshness policies on the extract assets follow successful reads, so a
connector that AFAS answers with the same rows every night stays fresh, although its file is
(rightly) not rewritten."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.loader import LoadingContextForTest
from dagster._core.test_utils import freeze_time
from dagster._daemon.freshness import FreshnessDaemon

from afas_pipeline.defs.freshness import EXTRACT_FAIL_WINDOW
from afas_pipeline.extract.storage import RawStore
from tests.conftest import NOW, Pipeline

ADMINISTRATIONS = dg.AssetKey(["afas", "Profit_Administrations"])
THREE_DAYS = 3 * 24 * 3600


def freshness(instance: dg.DagsterInstance, key: dg.AssetKey) -> FreshnessState:
    """The state Dagster's freshness daemon computes for `key` now (the daemon's own code)."""
    from afas_pipeline.definitions import extraction_definitions
    from afas_pipeline.settings import PipelineSettings

    extract_defs = extraction_definitions(PipelineSettings.from_env())
    node = extract_defs.resolve_asset_graph().get(key)
    context = LoadingContextForTest(instance)
    return asyncio.run(FreshnessDaemon()._compute_asset_freshness_state(context, node))


def test_a_connector_reread_unchanged_stays_fresh_and_goes_stale_when_reads_stop(
    pipeline: Pipeline,
) -> None:
    day = NOW.date()
    pipeline.run_ok(day, day, job="afas_extract_job")
    snapshot = RawStore(pipeline.data_dir).snapshot_path(ADMINISTRATIONS.path[-1])
    written_long_ago = time.time() - THREE_DAYS  # what the mtime check reported as stale
    os.utime(snapshot, (written_long_ago, written_long_ago))

    pipeline.run_ok(day, day, job="afas_extract_job")  # AFAS answers the same rows

    assert snapshot.stat().st_mtime == written_long_ago  # not rewritten
    assert freshness(pipeline.instance, ADMINISTRATIONS) == FreshnessState.PASS
    later = datetime.now(UTC) + EXTRACT_FAIL_WINDOW + timedelta(minutes=1)
    with freeze_time(later):  # no successful read for longer than the window
        assert freshness(pipeline.instance, ADMINISTRATIONS) == FreshnessState.FAIL


def test_every_connector_has_the_freshness_policy_and_nothing_else_does() -> None:
    from afas_pipeline.definitions import defs
    from afas_pipeline.extract.specs import EXTRACT_SPECS

    graph = defs.resolve_asset_graph()
    fresh = {k for k in graph.get_all_asset_keys() if graph.get(k).freshness_policy}
    assert fresh == {dg.AssetKey(["afas", spec.name]) for spec in EXTRACT_SPECS}
