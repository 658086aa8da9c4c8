"""AFAS's HTTP answers as typed errors (`errors.py`), and the checks on a successful answer's body.

Which status, `externalMessage` or transport failure means what, and whether a failed write may
have been applied (then it is never retried: `AfasAmbiguousWriteError`).
"""

from __future__ import annotations

import contextlib
import decimal
import json
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from afas_pipeline.afas.errors import (
    AfasAmbiguousWriteError,
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasConnectorBlockedError,
    AfasError,
    AfasFieldNotFoundError,
    AfasMaintenanceError,
    AfasNotFoundError,
    AfasPayloadTooLargeError,
    AfasResponseError,
    AfasTransientError,
    AfasValidationError,
)

# Connection failures before any byte was sent: safe to retry even a write.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_LOCKED = re.compile(
    r"(blocked|locked) by another user|geblokkeerd door een andere gebruiker", re.IGNORECASE
)
_BLOCKED = re.compile(r"getconnector.*\((definition|definitie)\).*(blocked|geblokkeerd)", re.I)
_FIELD = re.compile(r"Connector field '([^']*)' not found", re.IGNORECASE)
_TOO_LARGE = re.compile(r"out of memory|out of string space", re.IGNORECASE)
_TRANSIENT = re.compile(
    r"an unexpected error has occurred"
    r"|maximale tijdsduur voor het uitvoeren van de opdracht is verstreken"
    r"|maximum duration for performing the assignment has been exceeded",
    re.IGNORECASE,
)


def status_error(
    response: httpx.Response, method: str, context: dict[str, Any], environment_label: str
) -> AfasError:
    """Map a non-2xx answer to its error class; `environment_label` names the environment
    (never the token) in the hints."""
    status = response.status_code
    context = {**context, "status": status}
    if status in (401, 403):
        return AfasAuthenticationError(
            f"AFAS refused the token for {environment_label}: check the "
            "token (expired or for another environment), the environment, that the "
            "connector is in the App Connector, and the App Connector's IP restriction",
            **context,
        )
    if status == 404:
        return AfasNotFoundError(
            f"AFAS answered 404: check the connector id and the base URL ({environment_label})",
            **context,
        )
    if status == 503:
        if method != "GET":
            # A 503 may come after AFAS applied the write (a proxy's or gateway's answer to
            # a booking that went through): repeating it could book an entry twice.
            return _ambiguous("maintenance answer (503) to a write", context)
        return _maintenance_error(response, context)
    if status == 500:
        return server_error(response, method, context)
    if status in (502, 504):
        if method != "GET":
            return _ambiguous(f"gateway error {status} on a write", context)
        return AfasTransientError(f"AFAS gateway error {status}", **context)
    if status == 413:
        return AfasPayloadTooLargeError(
            "AFAS refused the request as too large (over 75 MB?)", **context
        )
    return AfasError(f"AFAS answered with unexpected HTTP status {status}", **context)


def server_error(response: httpx.Response, method: str, context: dict[str, Any]) -> AfasError:
    """Map an HTTP 500 to its error class by AFAS's `externalMessage`."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, Mapping) or "externalMessage" not in body:
        # AFAS's own 500s always carry the JSON body; a bare 500 comes from infrastructure.
        if method == "GET":
            return AfasTransientError("HTTP 500 without AFAS's error body", **context)
        return _ambiguous("HTTP 500 without AFAS's error body on a write", context)
    message = str(body.get("externalMessage") or "")
    number = body.get("errorNumber")
    details = {
        **context,
        "external_message": message,
        "error_number": int(number) if isinstance(number, int) else None,
        "profit_log_reference": body.get("profitLogReference"),
    }
    return _classify_500(message, details)


def _classify_500(message: str, details: dict[str, Any]) -> AfasError:
    said = f"AFAS: {message}"
    if _LOCKED.search(message):
        return AfasBookingLayoutLockedError(f"{said} (retrying later helps)", **details)
    if _BLOCKED.search(message):
        return AfasConnectorBlockedError(
            f"{said} (AFAS blocked this GetConnector under its fair-use policy; an AFAS "
            "administrator must unblock it)",
            **details,
        )
    field_match = _FIELD.search(message)
    if field_match:
        return AfasFieldNotFoundError(
            f"{said} (a filter or sort names a field the connector does not have)",
            field=field_match.group(1),
            **details,
        )
    if _TOO_LARGE.search(message):
        return AfasPayloadTooLargeError(
            f"{said} (the page is too large for AFAS: lower the page size / take)", **details
        )
    if _TRANSIENT.search(message):
        return AfasTransientError(said, **details)
    return AfasValidationError(said, **details)


def _maintenance_error(response: httpx.Response, context: dict[str, Any]) -> AfasError:
    retry_after = _retry_after_header(response.headers.get("Retry-After"))
    if retry_after is None:
        with contextlib.suppress(ValueError):
            body = json.loads(response.content)
            if isinstance(body, Mapping) and isinstance(body.get("retry_after"), int | float):
                retry_after = float(body["retry_after"])
    hint = f"; AFAS asks to retry after {retry_after:g} s" if retry_after is not None else ""
    return AfasMaintenanceError(
        f"AFAS is unavailable for maintenance (see afasstatus.nl){hint}",
        retry_after=retry_after,
        **context,
    )


def _retry_after_header(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def transport_error(error: httpx.TransportError, method: str, context: dict[str, Any]) -> AfasError:
    """Map a failed connection; only one that never sent the request is safe to retry as a
    write."""
    kind = type(error).__name__
    if isinstance(error, _NOT_SENT):
        return AfasTransientError(
            f"could not reach AFAS ({kind}); the request was not sent", before_send=True, **context
        )
    if method != "GET":
        return _ambiguous(f"the connection failed after the request was sent ({kind})", context)
    return AfasTransientError(f"the connection to AFAS failed ({kind})", **context)


def _ambiguous(reason: str, context: dict[str, Any]) -> AfasAmbiguousWriteError:
    return AfasAmbiguousWriteError(
        f"{reason}: AFAS may or may not have applied this write; check in AFAS before "
        "sending it again (it is not retried automatically)",
        **context,
    )


def parse_json(
    response: httpx.Response, *, method: str, path: str, connector_id: str | None
) -> Any:
    """The answer's JSON body, amounts as exact decimals."""
    try:
        # Exact decimals: an amount must never pass through a float.
        return json.loads(response.content, parse_float=decimal.Decimal)
    except ValueError:
        raise AfasResponseError(
            "AFAS answered with a body that is not valid JSON "
            f"(Content-Type {response.headers.get('Content-Type', 'missing')!r})",
            method=method,
            path=path,
            connector_id=connector_id,
            status=response.status_code,
        ) from None


def page_rows(body: Any, *, method: str, path: str, connector_id: str) -> list[dict[str, Any]]:
    """The `rows` of a GetConnector answer."""
    rows = body.get("rows") if isinstance(body, Mapping) else None
    if not isinstance(rows, list):
        raise AfasResponseError(
            "GetConnector answer has no 'rows' list",
            method=method,
            path=path,
            connector_id=connector_id,
        )
    return rows
