"""Plain-Python client for the AFAS Profit App Connector (REST): settings, token, filters,
typed errors, retries, metainfo and the typed paging client. No Dagster here."""

from __future__ import annotations

from afas_pipeline.afas.client import AfasClient, ClientStats, StatsSnapshot, UpdateResult
from afas_pipeline.afas.errors import (
    AfasAmbiguousWriteError,
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasConfigError,
    AfasConnectorBlockedError,
    AfasError,
    AfasFieldNotFoundError,
    AfasMaintenanceError,
    AfasNotFoundError,
    AfasPayloadTooLargeError,
    AfasResponseError,
    AfasSchemaError,
    AfasTransientError,
    AfasValidationError,
)
from afas_pipeline.afas.filters import Condition, F, Filter, Operator, all_of, any_of
from afas_pipeline.afas.frames import rows_to_frame
from afas_pipeline.afas.metainfo import (
    ConnectorList,
    FieldMeta,
    GetConnectorMeta,
    UpdateConnectorMeta,
    UpdateFieldMeta,
)
from afas_pipeline.afas.paging import Page, PageQuery
from afas_pipeline.afas.retry import RetryPolicy
from afas_pipeline.afas.settings import AfasSettings
from afas_pipeline.afas.token import AfasToken

__all__ = [
    "AfasAmbiguousWriteError",
    "AfasAuthenticationError",
    "AfasBookingLayoutLockedError",
    "AfasClient",
    "AfasConfigError",
    "AfasConnectorBlockedError",
    "AfasError",
    "AfasFieldNotFoundError",
    "AfasMaintenanceError",
    "AfasNotFoundError",
    "AfasPayloadTooLargeError",
    "AfasResponseError",
    "AfasSchemaError",
    "AfasSettings",
    "AfasToken",
    "AfasTransientError",
    "AfasValidationError",
    "ClientStats",
    "Condition",
    "ConnectorList",
    "F",
    "FieldMeta",
    "Filter",
    "GetConnectorMeta",
    "Operator",
    "Page",
    "PageQuery",
    "RetryPolicy",
    "StatsSnapshot",
    "UpdateConnectorMeta",
    "UpdateFieldMeta",
    "UpdateResult",
    "all_of",
    "any_of",
    "rows_to_frame",
]
