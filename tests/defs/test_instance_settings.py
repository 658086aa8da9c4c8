"""The deployment's Dagster instance settings: the repository's dagster.yaml, which the demo's
DAGSTER_HOME uses, holds the pools, the run queue, retries, monitoring and a quiet UI."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from afas_pipeline.demo import prepare_dagster_home
from tests.conftest import PROJECT_DIR


def test_the_demo_home_uses_the_repository_dagster_yaml_and_replaces_an_old_one(
    tmp_path: Path,
) -> None:
    old = tmp_path / "data" / "dagster_home" / "dagster.yaml"
    old.parent.mkdir(parents=True)
    old.write_text("concurrency:\n  pools:\n    default_limit: 1\n")  # what the demo once wrote

    home = prepare_dagster_home(tmp_path / "data")

    assert (home / "dagster.yaml").read_text() == (PROJECT_DIR / "dagster.yaml").read_text()


def test_the_settings_a_deployment_relies_on(tmp_path: Path) -> None:
    home = prepare_dagster_home(tmp_path / "data")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        # One extract step at a time across runs (AFAS's fair use), one dbt build at a time:
        # neither pool is set on its own, so both take the default limit.
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.event_log_storage.get_concurrency_keys() == set()
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 4
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure  # a crash, not a bad token
        assert instance.run_monitoring_enabled
        assert instance.freshness_enabled
        assert not instance.telemetry_enabled
        # The UI's "Join the Dagster community" pop-up shows while this is true (the GraphQL
        # field shouldShowNux: dagster_graphql/schema/roots/query.py).
        assert not instance.nux_enabled
