"""One AFAS environment's names in a deployment of many (`AFAS_ENVIRONMENTS`): its asset keys,
ops, jobs, schedules, groups, resource keys, pools and run tag.

Every environment's definitions are built by the same factories, each handed its `Scope`. The
single environment (`AFAS_ENVIRONMENTS` unset) has the empty name, and with it every name a
single-environment deployment has always had.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

# Every run of an environment carries it: the run queue allows one run per value (deploy/).
ENVIRONMENT_TAG = "afas/environment"


@dataclass(frozen=True)
class Scope:
    """The names of one environment (`environment`: a lowercase identifier, or "")."""

    environment: str = ""

    def key(self, first: str, *rest: str) -> dg.AssetKey:
        """`first/<environment>/rest…`: e.g. afas/acme/DWH_Financiele_mutaties."""
        return dg.AssetKey([first, *self._environment, *rest])

    def name(self, base: str) -> str:
        """An op, job, schedule, group or resource key: `<environment>__base`."""
        return f"{self.environment}__{base}" if self.environment else base

    def pool(self, base: str) -> str:
        """A Dagster pool of this environment alone (`base/<environment>`): one environment's
        steps never wait for another's."""
        return f"{base}/{self.environment}" if self.environment else base

    @property
    def tags(self) -> dict[str, str]:
        """The tags of this environment's runs."""
        return {ENVIRONMENT_TAG: self.environment} if self.environment else {}

    def resource_keys(self, *bases: str) -> set[str]:
        return {self.name(base) for base in bases}

    def resource(
        self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, base: str
    ) -> Any:
        """This environment's resource `base` (afas, storage, dbt) of a running step."""
        return getattr(context.resources, self.name(base))

    @property
    def _environment(self) -> list[str]:
        return [self.environment] if self.environment else []


SINGLE = Scope()
