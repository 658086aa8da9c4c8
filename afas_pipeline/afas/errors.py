"""Typed errors of the AFAS App Connector client.

Every error says what failed and where: HTTP method, the URL path and query relative to the base
URL (the token is never part of a URL), the connector, the HTTP status and, for AFAS's own error
body, the `profitLogReference` an AFAS consultant needs to find the server-side log entry. Nothing
here ever receives the token or the Authorization header, so `str(error)` cannot leak them.
"""

from __future__ import annotations

from typing import Any

# Paths longer than this are shortened in messages; the full path stays on `.path`.
_MAX_PATH_IN_MESSAGE = 300


class AfasError(Exception):
    """Base class of every error raised by the AFAS client."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        connector_id: str | None = None,
        status: int | None = None,
        external_message: str | None = None,
        error_number: int | None = None,
        profit_log_reference: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.connector_id = connector_id
        self.status = status
        self.external_message = external_message
        self.error_number = error_number
        self.profit_log_reference = profit_log_reference
        # Set by the retry loop when it gives up, so the message tells how hard we tried.
        self.attempts = 1
        # Set by `iter_pages_many`: the tag of the caller's query that failed.
        self.query_tag: object = None

    def context(self) -> str:
        """The 'where' part of the message: request, connector, status, log reference."""
        parts: list[str] = []
        if self.method or self.path:
            path = self.path or ""
            if len(path) > _MAX_PATH_IN_MESSAGE:
                path = f"{path[:_MAX_PATH_IN_MESSAGE]}... ({len(path)} characters)"
            parts.append(f"{self.method or ''} {path}".strip())
        if self.connector_id and (not self.path or self.connector_id not in self.path):
            parts.append(f"connector {self.connector_id}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.profit_log_reference:
            parts.append(f"profitLogReference {self.profit_log_reference}")
        if self.attempts > 1:
            parts.append(f"gave up after {self.attempts} attempts")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.context()
        return f"{self.message} [{where}]" if where else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not pickle by default; errors cross thread/process
        # boundaries (Dagster), so keep them picklable.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[AfasError], state: dict[str, Any]) -> AfasError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class AfasConfigError(AfasError):
    """The client is configured wrongly (settings, token, arguments); nothing was sent."""


class AfasAuthenticationError(AfasError):
    """HTTP 401/403: the token is invalid, not for this environment, or the IP is not allowed.

    Never retried: repeating a rejected token does not help and may lock the App Connector.
    """


class AfasNotFoundError(AfasError):
    """HTTP 404: wrong URL or connector, or a query string over AFAS's 2,049-character limit."""

    def __init__(self, message: str, *, query_too_long: bool = False, **context: Any) -> None:
        super().__init__(message, **context)
        self.query_too_long = query_too_long


class AfasValidationError(AfasError):
    """HTTP 500 with AFAS's error body: AFAS rejected the request's content. Not retried."""


class AfasConnectorBlockedError(AfasValidationError):
    """AFAS blocked the GetConnector (fair-use policy); an administrator must unblock it."""


class AfasFieldNotFoundError(AfasValidationError):
    """AFAS says "Connector field 'X' not found": a filter or sort on a field it does not have."""

    def __init__(self, message: str, *, field: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.field = field


class AfasPayloadTooLargeError(AfasValidationError):
    """AFAS ran out of memory ("Out of memory" / "Out of String space"): lower the take."""


class AfasMaintenanceError(AfasError):
    """HTTP 503: AFAS is in maintenance; `retry_after` is the advised wait in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class AfasTransientError(AfasError):
    """A failure that may pass: connection error, timeout, 502/504, or a retryable AFAS 500.

    `before_send` is True when the request never reached AFAS (connect/pool failures), which
    makes a retry safe even for writes.
    """

    def __init__(self, message: str, *, before_send: bool = False, **context: Any) -> None:
        super().__init__(message, **context)
        self.before_send = before_send


class AfasBookingLayoutLockedError(AfasError):
    """HTTP 500 "booking layout is blocked by another user": retry after a pause."""


class AfasAmbiguousWriteError(AfasError):
    """A write whose connection failed after it was sent: AFAS may or may not have applied it.

    Never retried automatically, because a retried POST could book a journal entry twice.
    Check in AFAS (e.g. by voucher number) before sending it again.
    """


class AfasResponseError(AfasError):
    """A success status with a body that is not what the API promises."""


class AfasSchemaError(AfasError):
    """A row that does not match the connector's metainfo."""

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        value: object = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.row = row
        self.field = field
        self.value = value
