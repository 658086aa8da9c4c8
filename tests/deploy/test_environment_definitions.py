"""Many AFAS environments in one deployment (AFAS_ENVIRONMENTS): each environment's variables,
its names in Dagster (asset keys, jobs, schedules, pools, resources, run tags), and the
deployment's instance file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from afas_pipeline.afas import AfasToken
from afas_pipeline.afas.errors import AfasConfigError
from afas_pipeline.definitions import environments_definitions
from afas_pipeline.defs.resources import environment_afas_settings
from afas_pipeline.settings import environment_names, environment_settings, environment_view
from afas_pipeline.usage import RunRequestError
from tests.conftest import PROJECT_DIR

TOKENS = {"acme": "a" * 64, "globex": "b" * 64}


def test_environments_are_named_by_lowercase_identifiers() -> None:
    assert environment_names({}) == []
    assert environment_names({"AFAS_ENVIRONMENTS": ""}) == []
    assert environment_names({"AFAS_ENVIRONMENTS": " acme, globex_eu ,"}) == ["acme", "globex_eu"]
    for bad in ("Acme", "acme-eu", "1acme", "acme__eu"):
        with pytest.raises(RunRequestError, match="lowercase identifiers"):
            environment_names({"AFAS_ENVIRONMENTS": f"globex,{bad}"})
    with pytest.raises(RunRequestError, match="acme twice"):
        environment_names({"AFAS_ENVIRONMENTS": "acme,globex,acme"})


def test_an_environment_reads_its_own_prefixed_variables_only() -> None:
    environ = {
        "AFAS_TOKEN": "the single environment's",
        "AFAS_PIPELINE_DATA_DIR": "/srv/afas",
        "ACME__AFAS_TOKEN": TOKENS["acme"],
        "ACME__AFAS_ADMINISTRATIONS": "1,2",
        "ACME__AFAS_PIPELINE_START_DATE": "2026-01-01",
        "GLOBEX__AFAS_TOKEN": TOKENS["globex"],
        "GLOBEX__AFAS_PIPELINE_DATA_DIR": "/data/globex",
    }

    acme = environment_view("acme", environ)

    assert acme == {
        "AFAS_TOKEN": TOKENS["acme"],
        "AFAS_ADMINISTRATIONS": "1,2",
        "AFAS_PIPELINE_START_DATE": "2026-01-01",
        "AFAS_PIPELINE_DATA_DIR": "/srv/afas/acme",  # a warehouse of its own
    }
    settings = environment_settings("acme", environ)
    assert (settings.data_dir, settings.administrations) == (Path("/srv/afas/acme"), "1,2")
    assert settings.start_date.isoformat() == "2026-01-01"
    assert environment_settings("globex", environ).data_dir == Path("/data/globex")


def test_a_missing_or_bad_setting_names_the_environment_and_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFAS_TOKEN", TOKENS["acme"])  # the single environment's: not acme's
    monkeypatch.setenv("ACME__AFAS_BASE_URL", "http://127.0.0.1:9/ProfitRestServices")
    with pytest.raises(AfasConfigError, match=r"^environment acme: ACME__AFAS_TOKEN is not set"):
        environment_afas_settings("acme")

    secret = "not-a-token-but-a-secret"
    monkeypatch.setenv("ACME__AFAS_TOKEN", secret)
    with pytest.raises(AfasConfigError, match="ACME__AFAS_TOKEN is not an AFAS token") as bad:
        environment_afas_settings("acme")
    assert secret not in str(bad.value)

    monkeypatch.setenv("GLOBEX__AFAS_PIPELINE_START_DATE", "soon")
    with pytest.raises(RunRequestError, match="environment globex: GLOBEX__AFAS_PIPELINE_START"):
        environment_settings("globex")
    # Loading the deployment lists every environment that cannot connect.
    with pytest.raises(RunRequestError) as loading:
        environments_definitions(["acme", "globex"])
    assert "environment acme: ACME__AFAS_TOKEN" in str(loading.value)
    assert "environment globex: GLOBEX__AFAS_TOKEN is not set" in str(loading.value)
    assert secret not in str(loading.value)


@pytest.fixture(scope="module")
def deployment() -> Iterator[dg.Definitions]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AFAS_PIPELINE_DATA_DIR", "/srv/afas")
        for name, token in TOKENS.items():
            env.setenv(f"{name.upper()}__AFAS_TOKEN", token)
            env.setenv(f"{name.upper()}__AFAS_BASE_URL", f"http://{name}.test/ProfitRestServices")
        defs = environments_definitions(list(TOKENS))
        defs.get_repository_def().validate_loadable()  # resources resolved meanwhile
        yield defs


def test_each_environment_has_its_assets_jobs_schedules_and_pools(
    deployment: dg.Definitions,
) -> None:
    repository = deployment.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    for name in TOKENS:
        assert {
            f"afas/{name}/DWH_Financiele_mutaties",
            f"afas/{name}/app_connector",
            f"afas/{name}/DWH_Debiteuren_deletions",
            f"warehouse/{name}/fct_trial_balance",
            f"analysts/{name}/marts_database",
            f"writeback/{name}/fientries_posted",
        } <= keys
        daily = repository.get_job(f"{name}__afas_daily_job")
        assert daily.tags == {"afas/environment": name}
        assert {
            k.to_user_string().split("/")[1] for k in daily.asset_layer.executable_asset_keys
        } == {name}
        pools = {node.definition.pool for node in daily.graph.node_dict.values()}  # type: ignore[attr-defined]
        assert pools == {f"afas_api/{name}", f"warehouse/{name}"}
        schedule = repository.get_schedule_def(f"{name}__afas_refresh_today")
        assert schedule.job_name == f"{name}__afas_refresh_job"
    # An environment's steps run one at a time anyway: no process per step to load them all.
    assert deployment.executor is dg.in_process_executor
    # Nothing of the single environment's names is left.
    assert not {k for k in keys if k.split("/")[1] not in TOKENS}


def test_each_environment_connects_with_its_own_token_into_its_own_warehouse(
    deployment: dg.Definitions,
) -> None:
    resources = deployment.resources or {}
    for name in TOKENS:
        afas = resources[f"{name}__afas"]
        assert afas.settings().base_url == f"http://{name}.test/ProfitRestServices"  # type: ignore[attr-defined]
        assert afas.settings().token == AfasToken(TOKENS[name])  # type: ignore[attr-defined]
        assert resources[f"{name}__storage"].data_dir == f"/srv/afas/{name}"  # type: ignore[attr-defined]
        assert f"{name}__dbt" in resources


def test_the_deployment_instance_is_the_repository_instance_on_postgres() -> None:
    base = yaml.safe_load((PROJECT_DIR / "dagster.yaml").read_text())
    deploy = yaml.safe_load((PROJECT_DIR / "deploy" / "dagster.yaml").read_text())

    assert deploy["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    runs = deploy["concurrency"].pop("runs")
    assert runs.pop("tag_concurrency_limits") == [
        {"key": "afas/environment", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert runs == base["concurrency"].pop("runs")
    del deploy["storage"], deploy["code_servers"]  # the time to load many environments
    assert deploy == base  # every other setting, as the single environment's
