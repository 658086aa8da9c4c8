from __future__ import annotations

import pytest

from afas_pipeline.afas import AfasConfigError, AfasSettings

HEX = "949C1A9CD9AE4797950D94F55A7A4D056770472D4963CB9A8D3800BEE0CCE6A2"


def test_environment_number_gives_production_url() -> None:
    settings = AfasSettings.create(token=HEX, environment=12345)
    assert settings.base_url == "https://12345.rest.afas.online/ProfitRestServices"
    assert settings.environment == "12345"
    assert settings.environment_type == "production"
    assert settings.environment_label == "environment 12345 (production)"
    assert settings.describe() == settings.environment_label


@pytest.mark.parametrize(
    ("env_type", "host"),
    [("test", "resttest"), ("accept", "restaccept"), ("production", "rest")],
)
def test_environment_types(env_type: str, host: str) -> None:
    settings = AfasSettings.create(token=HEX, environment="12345", environment_type=env_type)
    assert settings.base_url == f"https://12345.{host}.afas.online/ProfitRestServices"


@pytest.mark.parametrize(
    ("name", "env_type"), [("O12345AA", "production"), ("T12345AB", "test"), ("A54321AC", "accept")]
)
def test_environment_name_gives_type(name: str, env_type: str) -> None:
    settings = AfasSettings.create(token=HEX, environment=name)
    assert settings.environment_type == env_type
    assert settings.environment == name[1:6]


def test_contradicting_type_is_an_error() -> None:
    with pytest.raises(AfasConfigError, match="AFAS_ENVIRONMENT_TYPE 'production' contradicts"):
        AfasSettings.create(token=HEX, environment="T12345AA", environment_type="production")


def test_matching_explicit_type_is_fine() -> None:
    settings = AfasSettings.create(token=HEX, environment="T12345AA", environment_type="TEST")
    assert settings.base_url == "https://12345.resttest.afas.online/ProfitRestServices"


def test_base_url_overrides_and_strips_slash() -> None:
    settings = AfasSettings.create(token=HEX, base_url="http://127.0.0.1:8000/ProfitRestServices/")
    assert settings.base_url == "http://127.0.0.1:8000/ProfitRestServices"
    assert settings.environment is None
    assert settings.environment_label == "http://127.0.0.1:8000/ProfitRestServices"


def test_from_env() -> None:
    env = {"AFAS_TOKEN": HEX, "AFAS_ENVIRONMENT": "A12345AA"}
    settings = AfasSettings.from_env(env)
    assert settings.base_url == "https://12345.restaccept.afas.online/ProfitRestServices"
    env = {"AFAS_TOKEN": HEX, "AFAS_BASE_URL": "http://sim/ProfitRestServices"}
    assert AfasSettings.from_env(env).base_url == "http://sim/ProfitRestServices"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "AFAS_TOKEN is not set"),
        ({"AFAS_TOKEN": "secret-value"}, "AFAS_TOKEN is not an AFAS token"),
        ({"AFAS_TOKEN": HEX}, "AFAS_ENVIRONMENT is not set"),
        ({"AFAS_TOKEN": HEX, "AFAS_ENVIRONMENT": "1234"}, "AFAS_ENVIRONMENT '1234'"),
        ({"AFAS_TOKEN": HEX, "AFAS_ENVIRONMENT": "X12345AA"}, "AFAS_ENVIRONMENT 'X12345AA'"),
        (
            {"AFAS_TOKEN": HEX, "AFAS_ENVIRONMENT": "12345", "AFAS_ENVIRONMENT_TYPE": "prod"},
            "AFAS_ENVIRONMENT_TYPE 'prod'",
        ),
        ({"AFAS_TOKEN": HEX, "AFAS_BASE_URL": "ftp://x"}, "AFAS_BASE_URL"),
    ],
)
def test_from_env_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(AfasConfigError, match=message) as info:
        AfasSettings.from_env(env)
    assert "secret-value" not in str(info.value)
    assert HEX not in str(info.value)


def test_repr_hides_token() -> None:
    settings = AfasSettings.create(token=HEX, environment=12345)
    assert HEX not in repr(settings)
    assert "token" not in repr(settings)
