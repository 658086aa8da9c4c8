"""The pipeline's own settings, typed: read from the environment once, at the edge (the command
line, the Dagster definitions), and handed to the resources and to dbt from there.

AFAS's connection (the token, where the environment is) is `afas/settings.py`'s, read when a
run starts and never from config; the alert webhook, a secret too, is read by its resource.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from afas_pipeline.usage import RunRequestError

DATA_DIR_VARIABLE = "AFAS_PIPELINE_DATA_DIR"
START_DATE_VARIABLE = "AFAS_PIPELINE_START_DATE"
ALERT_WEBHOOK_VARIABLE = "AFAS_ALERT_WEBHOOK_URL"
RAW_URL_VARIABLE = "AFAS_PIPELINE_RAW_URL"
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
