"""The pipeline's own settings, typed: read from the environment once, at the edge (the command
line, the Dagster definitions), and handed to the resources and to dbt from there.

AFAS's connection (the token, where the environment is) is `afas/settings.py`'s, read when a
run starts and never from config; the alert webhook, a secret too, is read by its resource.

A deployment of many AFAS environments names them in `AFAS_ENVIRONMENTS` (`acme,globex`); each
reads every variable above as `<NAME>__<variable>` (`ACME__AFAS_TOKEN`), through the same
`from_env` handed `environment_view(name)`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from afas_pipeline.usage import RunRequestError

DATA_DIR_VARIABLE = "AFAS_PIPELINE_DATA_DIR"
START_DATE_VARIABLE = "AFAS_PIPELINE_START_DATE"
ALERT_WEBHOOK_VARIABLE = "AFAS_ALERT_WEBHOOK_URL"
RAW_URL_VARIABLE = "AFAS_PIPELINE_RAW_URL"
ENVIRONMENTS_VARIABLE = "AFAS_ENVIRONMENTS"
# A name is a prefix of variables (ACME__…) and a part of asset keys, jobs and pools.
_ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Relative to the working directory: `./data` in the repository, which is the dbt project's
# default too (its `../data`, see profiles.yml).
DEFAULT_DATA_DIR = "data"
DEFAULT_START_DATE = date(2025, 1, 1)


@dataclass(frozen=True)
class PipelineSettings:
    """Where the files live, what the partitions and the schedules are, what is loaded."""

    data_dir: Path = Path(DEFAULT_DATA_DIR)
    # Where the raw layer is: empty for `<data_dir>/raw`, or `s3://bucket/prefix` for object
    # storage (its endpoint and credentials: extract/objectstore.py, read from the environment).
    raw_url: str = ""
    # The first partition day: it shapes the asset graph.
    start_date: date = DEFAULT_START_DATE
    # Comma-separated administration ids (UnId) to load; empty means all.
    administrations: str = ""
    refresh_cron: str = "*/15 * * * *"
    daily_cron: str = "30 0 * * *"
    reconcile_cron: str = "0 3 * * 0"
    # Whether AFAS_ALERT_WEBHOOK_URL is set; its value, a secret, only its resource reads.
    alert_webhook_set: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PipelineSettings:
        """The settings of `environ` (default: the process environment); unset or empty
        variables take their documented defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            data_dir=data_dir_from_env(env),
            raw_url=_raw_url(env),
            start_date=_day(env, START_DATE_VARIABLE, defaults.start_date),
            administrations=env.get("AFAS_ADMINISTRATIONS", ""),
            refresh_cron=env.get("AFAS_PIPELINE_REFRESH_CRON") or defaults.refresh_cron,
            daily_cron=env.get("AFAS_PIPELINE_DAILY_CRON") or defaults.daily_cron,
            reconcile_cron=env.get("AFAS_PIPELINE_RECONCILE_CRON") or defaults.reconcile_cron,
            alert_webhook_set=ALERT_WEBHOOK_VARIABLE in env,
        )

    @property
    def data_path(self) -> Path:
        """The data directory as an absolute path (relative ones are the working directory's)."""
        return self.data_dir.resolve()


def data_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """`AFAS_PIPELINE_DATA_DIR`, or the default: for commands that need nothing else."""
    env = os.environ if environ is None else environ
    return Path(env.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


def _raw_url(env: Mapping[str, str]) -> str:
    text = (env.get(RAW_URL_VARIABLE) or "").strip()
    bucket = text.removeprefix("s3://").split("/", 1)[0]
    if text and not (text.startswith("s3://") and bucket):
        raise RunRequestError(
            f"{RAW_URL_VARIABLE} must be s3://bucket/prefix (or unset for <data dir>/raw), "
            f"got {text!r}"
        )
    return text.rstrip("/")


def _day(env: Mapping[str, str], name: str, default: date) -> date:
    text = env.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RunRequestError(f"{name} must be a day (YYYY-MM-DD), got {text!r}") from None


def environment_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The environments of `AFAS_ENVIRONMENTS` (comma-separated lowercase identifiers); none
    when it is unset or empty: the single environment of the unprefixed variables."""
    env = os.environ if environ is None else environ
    names = [name.strip() for name in env.get(ENVIRONMENTS_VARIABLE, "").split(",")]
    names = [name for name in names if name]
    bad = [name for name in names if not _ENVIRONMENT_NAME.match(name)]
    if bad:
        raise RunRequestError(
            f"{ENVIRONMENTS_VARIABLE} names environments as lowercase identifiers (acme,globex), "
            f"not {', '.join(map(repr, bad))}"
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RunRequestError(f"{ENVIRONMENTS_VARIABLE} names {', '.join(twice)} twice")
    return names


def environment_view(name: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of environment `name` as a single environment's: each `NAME__V` as `V`.
    Its data directory defaults to `<AFAS_PIPELINE_DATA_DIR>/<name>`: a warehouse of its own."""
    env = os.environ if environ is None else environ
    prefix = variable_prefix(name)
    view = {key[len(prefix) :]: value for key, value in env.items() if key.startswith(prefix)}
    if not view.get(DATA_DIR_VARIABLE):
        view[DATA_DIR_VARIABLE] = str(data_dir_from_env(env) / name)
    return view


def variable_prefix(name: str) -> str:
    return f"{name.upper()}__"


@contextmanager
def errors_of_environment(name: str, *errors: type[Exception]) -> Iterator[None]:
    """Re-raise `errors` (RunRequestError by default) naming environment `name` and its own
    variables: `AFAS_TOKEN is not set` becomes `environment acme: ACME__AFAS_TOKEN is not set`."""
    caught = errors or (RunRequestError,)
    try:
        yield
    except caught as error:
        message = re.sub(r"\bAFAS_", variable_prefix(name) + "AFAS_", str(error))
        raise type(error)(f"environment {name}: {message}") from None


def environment_settings(name: str, environ: Mapping[str, str] | None = None) -> PipelineSettings:
    """The settings of environment `name` (see `environment_view`)."""
    with errors_of_environment(name):
        return PipelineSettings.from_env(environment_view(name, environ))
