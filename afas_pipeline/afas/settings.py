"""Where the client connects: the AFAS environment, its base URL and the token."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from afas_pipeline.afas.errors import AfasConfigError
from afas_pipeline.afas.token import AfasToken

EnvironmentType = Literal["production", "test", "accept"]

# The host part per environment type (afas-api.md §1).
_HOSTS: dict[str, str] = {
    "production": "rest.afas.online",
    "test": "resttest.afas.online",
    "accept": "restaccept.afas.online",
}
# The first letter of an environment name (e.g. O12345AA) is its platform.
_LETTER_TYPES: dict[str, EnvironmentType] = {"O": "production", "T": "test", "A": "accept"}
_NUMBER = re.compile(r"^\d{5}$")
_NAME = re.compile(r"^([OTA])(\d{5})([A-Z]{0,3})$", re.IGNORECASE)


@dataclass(frozen=True)
class AfasSettings:
    """Connection settings for one AFAS environment. The token never shows in `repr`."""

    base_url: str
    token: AfasToken = field(repr=False)
    environment: str | None = None
    environment_type: EnvironmentType = "production"

    @classmethod
    def create(
        cls,
        *,
        token: AfasToken | str,
        environment: int | str | None = None,
        environment_type: str | None = None,
        base_url: str | None = None,
    ) -> AfasSettings:
        """Build settings from an environment number (`12345`) or name (`O12345AA`).

        `environment_type` defaults to the name's letter, else production. An explicit
        `base_url` (e.g. the simulator) overrides the URL derived from the environment.
        """
        token = token if isinstance(token, AfasToken) else _token(token)
        number, inferred = _parse_environment(environment)
        env_type = _resolve_type(environment_type, inferred)
        if base_url is not None and base_url.strip():
            url = _parse_base_url(base_url)
        elif number is not None:
            url = f"https://{number}.{_HOSTS[env_type]}/ProfitRestServices"
        else:
            raise AfasConfigError(
                "AFAS_ENVIRONMENT is not set: give the 5-digit environment number "
                "(or AFAS_BASE_URL to reach another server such as the simulator)"
            )
        return cls(base_url=url, token=token, environment=number, environment_type=env_type)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AfasSettings:
        """Read AFAS_TOKEN, AFAS_ENVIRONMENT, AFAS_ENVIRONMENT_TYPE and AFAS_BASE_URL."""
        env = os.environ if environ is None else environ
        token = env.get("AFAS_TOKEN", "")
        if not token.strip():
            raise AfasConfigError("AFAS_TOKEN is not set: give the App Connector token")
        return cls.create(
            token=token,
            environment=env.get("AFAS_ENVIRONMENT") or None,
            environment_type=env.get("AFAS_ENVIRONMENT_TYPE") or None,
            base_url=env.get("AFAS_BASE_URL") or None,
        )

    @property
    def environment_label(self) -> str:
        """A safe human name for messages: the environment and its type, or the base URL."""
        if self.environment is not None:
            return f"environment {self.environment} ({self.environment_type})"
        return self.base_url

    def describe(self) -> str:
        """Same as `environment_label`."""
        return self.environment_label


def _token(value: str) -> AfasToken:
    if not value.strip():
        raise AfasConfigError("AFAS_TOKEN is not set: give the App Connector token")
    return AfasToken(value)


def _parse_environment(value: int | str | None) -> tuple[str | None, EnvironmentType | None]:
    """The 5-digit number and, for a name like O12345AA, the type its letter implies."""
    if value is None:
        return None, None
    text = str(value).strip()
    if not text:
        return None, None
    if _NUMBER.match(text) and int(text) >= 10000:
        return text, None
    match = _NAME.match(text)
    if match and int(match.group(2)) >= 10000:
        return match.group(2), _LETTER_TYPES[match.group(1).upper()]
    raise AfasConfigError(
        f"AFAS_ENVIRONMENT {text!r} is not an AFAS environment: expected a 5-digit number "
        "(10000-99999) such as 12345, or an environment name such as O12345AA"
    )


def _resolve_type(given: str | None, inferred: EnvironmentType | None) -> EnvironmentType:
    if given is None or not given.strip():
        return inferred or "production"
    normalized = given.strip().lower()
    if normalized not in _HOSTS:
        raise AfasConfigError(
            f"AFAS_ENVIRONMENT_TYPE {given!r} is not valid: expected production, test or accept"
        )
    env_type = cast(EnvironmentType, normalized)
    if inferred is not None and inferred != env_type:
        raise AfasConfigError(
            f"AFAS_ENVIRONMENT_TYPE {env_type!r} contradicts AFAS_ENVIRONMENT, whose name "
            f"marks a {inferred} environment"
        )
    return env_type


def _parse_base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise AfasConfigError(
            f"AFAS_BASE_URL {url!r} is not an http(s) URL, e.g. "
            "https://12345.rest.afas.online/ProfitRestServices"
        )
    return url
