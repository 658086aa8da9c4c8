"""Dagster resources: thin, configurable wrappers around the plain AFAS client and the raw store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.afas.errors import AfasConfigError
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.specs import contract_client
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.settings import (
    DEFAULT_DATA_DIR,
    PipelineSettings,
    environment_view,
    errors_of_environment,
)


class AfasResource(dg.ConfigurableResource):
    """The AFAS environment to read from and write to.

    Where it is and the token come from the deployment's environment only (`AFAS_TOKEN`,
    `AFAS_ENVIRONMENT`, `AFAS_ENVIRONMENT_TYPE`, `AFAS_BASE_URL`), read when a run starts:
    they are not config, so no run launched from the UI can point the token at another URL.
    """

    max_concurrency: int = Field(
        default=4, description="Parallel requests to AFAS (AFAS advises at most 5; never above 8)."
    )
    administrations: str | None = Field(
        default=None,
        description="Comma-separated administration ids (UnId) to load; empty means all.",
    )

    def settings(self) -> AfasSettings:
        """The connection settings of this deployment (the process environment)."""
        return AfasSettings.from_env()

    @contextmanager
    def client(self, **options: Any) -> Iterator[AfasClient]:
        """A client that knows the contract (`contract_client`); `options` go to AfasClient."""
        options.setdefault("max_concurrency", self.max_concurrency)
        with contract_client(self.settings(), **options) as client:
            yield client

    def configured_administrations(self) -> list[int] | None:
        """The administrations to load, or None for all of them."""
        text = (self.administrations or "").strip()
        if not text:
            return None
        try:
            return sorted({int(part) for part in text.split(",") if part.strip()})
        except ValueError as exc:
            raise ValueError(
                f"AFAS_ADMINISTRATIONS must be comma-separated numbers, got {text!r}"
            ) from exc


class StorageResource(dg.ConfigurableResource):
    """Where all files live: the raw layer, the warehouse and the analysts' marts."""

    data_dir: str = Field(default=DEFAULT_DATA_DIR, description="AFAS_PIPELINE_DATA_DIR")
    raw_url: str = Field(
        default="", description="AFAS_PIPELINE_RAW_URL: s3://bucket/prefix, or empty for raw/"
    )

    @property
    def path(self) -> Path:
        return Path(self.data_dir).resolve()

    def raw_store(self) -> RawStore:
        return RawStore(self.path, self.raw_url or None)


def pipeline_resources(
    settings: PipelineSettings, *, afas: AfasSettings | None = None, scope: Scope = SINGLE
) -> dict[str, dg.ConfigurableResource]:
    """The extraction's resources for `settings`, under the resource keys of `scope`. `afas`:
    the connection of an in-process run whose caller already holds it (the demo's simulator)
    instead of the process environment's; it is no config, so it never reaches the run's
    records. An environment of many connects with its own variables (`ACME__AFAS_TOKEN`)."""
    if afas is not None:
        resource = _connected_to(afas)
    elif scope.environment:
        resource = _of_environment(scope.environment)
    else:
        resource = AfasResource
    return {
        scope.name("afas"): resource(administrations=settings.administrations),
        scope.name("storage"): StorageResource(
            data_dir=str(settings.data_dir), raw_url=settings.raw_url
        ),
    }


def environment_afas_settings(name: str) -> AfasSettings:
    """The connection of environment `name`, from its variables (`ACME__AFAS_TOKEN`…); an
    error names the environment and its variable, never the token."""
    with errors_of_environment(name, AfasConfigError):
        return AfasSettings.from_env(environment_view(name))


def _connected_to(afas: AfasSettings) -> type[AfasResource]:
    # A subclass, not a field or a private attribute: Dagster re-creates a resource from its
    # config before a run, which would drop the latter and record the former.
    class ConnectedAfasResource(AfasResource):
        def settings(self) -> AfasSettings:
            return afas

    return ConnectedAfasResource


def _of_environment(name: str) -> type[AfasResource]:
    # A subclass for the reason above: the environment is no config a run could change.
    class EnvironmentAfasResource(AfasResource):
        def settings(self) -> AfasSettings:
            return environment_afas_settings(name)

    return EnvironmentAfasResource
