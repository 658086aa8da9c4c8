"""The simulator's HTTP layer: the AFAS Profit App Connector REST API over an `Environment`.

Follows `shared/afas-api.md`: token check (§2), GetConnectors (§3), metainfo (§4), the FiEntries
UpdateConnector (§5) and AFAS's error bodies (§6). Simulator-only admin endpoints live under
`/ProfitRestServices/_simulator/` and need the same token.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from afas_pipeline.contract import CONNECTORS, FI_ENTRIES, ConnectorSpec
from afas_pipeline.simulator import SIMULATOR_MARK
from afas_pipeline.simulator.environment import FiEntryRejected, UnknownConnectorError
from afas_pipeline.simulator.faults import (
    RAW_SEND_KEY,
    FaultConfig,
    FaultInjector,
    FaultMiddleware,
)
from afas_pipeline.simulator.query import (
    ERROR_NOT_SUPPORTED,
    ERROR_VALIDATION,
    UNEXPECTED_MESSAGE,
    AfasError,
    run_query,
)

log = logging.getLogger(__name__)

BASE_PATH = "/ProfitRestServices"
ADMIN = "_simulator"
PROFIT_VERSION = "22.22.5"
# IIS's default maxQueryString: 2048 characters after the `?` (2049 counting it) [get].
MAX_QUERY_STRING = 2048

JSON_TYPE = "application/json; charset=utf-8"
EXTRA_HEADERS = [
    (
        b"access-control-allow-headers",
        b"Content-Type, Accept, Authorization, OnlineSessionId, Accept-Language",
    ),
    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, OPTIONS"),
    (b"x-afas-proxy-version", b"1.0.0-simulator"),
]
_TOKEN_XML = re.compile(
    r"^\s*<token>\s*<version>\s*1\s*</version>\s*<data>\s*([0-9A-Fa-f]+)\s*</data>\s*</token>\s*$"
)

# Decision on an unknown (or not authorised) GetConnector: HTTP 500 with AFAS's JSON body.
# help.afas.nl lists "connector not added to the App Connector" among the causes of a 401
# [h-120612], but a 401 has an empty body (§2), so the documented text "GetConnector not supported
# for this app or the user is not authorized" [trouble] can only arrive in a 500 error body; the
# Go client saw the UpdateConnector twin of that message with errorNumber -2147180996 in such a
# body. A 500 also lets a client tell a wrong connector id from a bad token, which it must never
# retry.
GET_NOT_SUPPORTED = "GetConnector not supported for this app or the user is not authorized"
UPDATE_NOT_SUPPORTED = (
    "General message: This UpdateConnector is not supported or the user is not authorized."
)


class EnvironmentLike(Protocol):
    """The part of `simulator.environment.Environment` the HTTP layer uses."""

    config: Any

    def now(self) -> datetime: ...
    def advance(self, *, days: float = 0, to: datetime | None = None) -> dict[str, Any]: ...
    def rows(self, connector_id: str) -> Any: ...
    def served_spec(self, connector_id: str) -> ConnectorSpec: ...
    def remove_fields(self, connector_id: str, field_ids: list[str]) -> None: ...
    def silent_edit(
        self, connector_id: str, key: dict[str, Any], values: dict[str, Any] | None
    ) -> int: ...
    def undo_silent_edits(self) -> int: ...
    def post_fi_entry(self, payload: dict[str, Any]) -> dict[str, Any]: ...
    def delete_fi_entry(self, unit_id: int, journal_id: str, entry_no: int) -> None: ...
    def delete_fi_invoice(self, unit_id: int, journal_id: str, invoice_id: str) -> None: ...
    def summary(self) -> dict[str, Any]: ...


class RequestCounter:
    """Counts API requests by kind and by status (tests and benchmarks count calls with it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._by_kind: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()

    def record(self, kind: str, status: str) -> None:
        with self._lock:
            self._by_kind[kind] += 1
            self._by_status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_kind.values()),
                "by_kind": dict(sorted(self._by_kind.items())),
                "by_status": dict(sorted(self._by_status.items())),
            }


def request_kind(method: str, relative_path: str) -> str:
    """A stable label such as "GET connectors/DWH_Debiteuren" or "DELETE connectors/FiEntries"."""
    segments = [s for s in relative_path.split("/") if s]
    head = segments[0].lower() if segments else ""
    if head == "connectors" and len(segments) > 1:
        label = f"connectors/{segments[1]}"
    elif head == "metainfo":
        label = "/".join(["metainfo", *(s.lower() for s in segments[1:2])])
    elif head == "profitversion":
        label = "ProfitVersion"
    else:
        label = "other"
    return f"{method.upper()} {label}"


class SimulatorMiddleware:
    """Outermost layer: AFAS's extra headers on every answer, and the request counter."""

    def __init__(self, app: Any, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *EXTRA_HEADERS]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self._count(scope, status)

    def _count(self, scope: dict[str, Any], status: list[int]) -> None:
        path: str = scope["path"]
        if not path.lower().startswith(BASE_PATH.lower()):
            return
        relative = path[len(BASE_PATH) :]
        if relative.lower().lstrip("/").startswith(ADMIN):
            return
        # No response start means the connection was dropped (a fault) or the app crashed.
        label = str(status[0]) if status else "dropped"
        self.counter.record(request_kind(scope["method"], relative), label)


# -- responses -----------------------------------------------------------------------------------


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact one-line JSON, as Profit 7 writes it."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    return Response(payload, status_code=status, media_type=JSON_TYPE, headers=headers)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def afas_error(exc: AfasError) -> Response:
    # X-PROFIT-ERROR repeats the message base64-encoded; obsolete but still read by old clients.
    encoded = base64.b64encode(exc.message.encode()).decode()
    return json_response(exc.body(), 500, headers={"X-PROFIT-ERROR": encoded})


def unauthorized() -> Response:
    # AFAS answers 401 with an empty body typed as XML (§2, [spec-mut] header example).
    return Response(b"", status_code=401, media_type="application/xml; charset=utf-8")


def not_found() -> Response:
    return Response(b"", status_code=404)


# -- metainfo (§4) -------------------------------------------------------------------------------


def metainfo(config: Any) -> dict[str, Any]:
    """`GET /metainfo`: the connectors this token may use, and session info."""
    number = "".join(ch for ch in str(config.environment_id) if ch.isdigit())
    return {
        "updateConnectors": [{"id": FI_ENTRIES, "description": "Financiële mutaties"}],
        "getConnectors": [
            {"id": spec.id, "description": spec.description} for spec in CONNECTORS.values()
        ],
        "info": {
            "envid": config.environment_id,
            "appName": "AFAS pipeline simulator",
            "group": f"AuthorizationGroup 1 ({number}.SIMULATOR)",
            "tokenExpiry": "0",
        },
    }


def get_connector_info(spec: ConnectorSpec, datetime_data_type: str = "date") -> dict[str, Any]:
    """`GET /metainfo/get/{id}`: fields in row order, key fields as lookups (controlType 5).

    AFAS has no datetime dataType (§4): its datetime fields are reported as "date" and only
    their values carry the time; `datetime_data_type="datetime"` gives the simulator's old answer.
    """
    fields = [
        {
            "id": field.id,
            "fieldId": f"U{index:03d}",
            "dataType": datetime_data_type if field.data_type == "datetime" else field.data_type,
            "label": field.label,
            "length": field.length,
            "controlType": 5 if field.id in spec.key else 1,
            "decimals": field.decimals,
            "decimalsFieldId": "",
        }
        for index, field in enumerate(spec.fields, start=1)
    ]
    return {"name": spec.id, "description": spec.description, "fields": fields}


def _update_field(
    field_id: str,
    data_type: str,
    label: str,
    length: int = 0,
    *,
    mandatory: bool = False,
    decimals: int = 0,
    values: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "fieldId": field_id,
        "primaryKey": False,
        "dataType": data_type,
        "label": label,
        "mandatory": mandatory,
        "length": length,
        "decimals": decimals,
        "decimalFieldId": "",
        "notzero": False,
        "controlType": 1,
        "values": values,
    }


_ACCOUNT_KINDS = [
    {"id": "1", "description": "Grootboekrekening"},
    {"id": "2", "description": "Debiteur"},
    {"id": "3", "description": "Crediteur"},
]


def _fi_entry_header_fields() -> list[dict[str, Any]]:
    f = _update_field
    return [
        f("Year", "int", "Boekjaar", 4, mandatory=True),
        f("Peri", "int", "Periode", 3, mandatory=True),
        f("UnId", "int", "Administratie", 9),
        f("JoCo", "string", "Dagboek", 6, mandatory=True),
        f("AdDc", "boolean", "Maak verbijzonderingscode", 1),
        f("AdDa", "boolean", "Maak verbijzonderingstoewijzing", 1),
        f("PrTp", "int", "Type boeking", 9),
        f("AuNu", "boolean", "Autonummering factuur", 1),
    ]


def _fi_entry_line_fields() -> list[dict[str, Any]]:
    f = _update_field
    amount: dict[str, Any] = {"decimals": 2}
    return [
        {**f("EnNo", "int", "Nummer journaalpost", 9), "primaryKey": True},
        f("VaAs", "string", "Kenmerk rekening", 1, mandatory=True, values=_ACCOUNT_KINDS),
        f("AcNr", "string", "Rekeningnummer", 16, mandatory=True),
        f("EnDa", "date", "Datum boeking", 10, mandatory=True),
        f("BpDa", "date", "Boekstukdatum", 10, mandatory=True),
        f("BpNr", "string", "Boekstuknummer", 32),
        f("InId", "string", "Factuurnummer", 12),
        f("Ds", "string", "Omschrijving boeking", 255),
        f("AmDe", "decimal", "Bedrag debet", 18, **amount),
        f("AmCr", "decimal", "Bedrag credit", 18, **amount),
        f("VaId", "string", "Btw-code", 3),
        f("CoVc", "string", "Btw-terugvordering", 16),
        f("CuId", "string", "Valuta", 3),
        f("Rate", "decimal", "Koers", 18, decimals=6),
        f("AmDc", "decimal", "Valutabedrag debet", 18, **amount),
        f("AmCc", "decimal", "Valutabedrag credit", 18, **amount),
        f("DaEx", "date", "Vervaldatum", 10),
        f("PaId", "string", "Betalingskenmerk", 32),
        f("Judg", "string", "Beoordelaar", 15),
        f("BlPa", "boolean", "Blokkeren voor betaling", 1),
        f("AmGa", "decimal", "Bedrag G-rekening", 18, **amount),
        f("PaCd", "string", "Betalingsvoorwaarde", 5),
        f("AuPa", "boolean", "Automatisch betalen/incasseren", 1),
        f("PaBa", "boolean", "Terugbetalen", 1),
        f("Mref", "string", "Afletterreferentie", 32),
        f("Fref", "string", "Factuurreferentie", 32),
        f("PrId", "string", "Project", 15),
        f("OrNu", "string", "Verkoopordernummer", 12),
    ]


def _fi_dim_entry_fields() -> list[dict[str, Any]]:
    f = _update_field
    axes = [f(f"DiC{n}", "string", f"Code verbijzonderingsas {n}", 16) for n in range(1, 6)]
    amounts = [
        f("AmDe", "decimal", "Bedrag debet", 18, decimals=2),
        f("AmCr", "decimal", "Bedrag credit", 18, decimals=2),
    ]
    return axes + amounts


def update_connector_info() -> dict[str, Any]:
    """`GET /metainfo/update/FiEntries`: the recursive object tree of the FiEntries connector."""
    dim = {"name": "FiDimEntries", "fields": _fi_dim_entry_fields(), "objects": []}
    lines = {"name": "FiEntries", "fields": _fi_entry_line_fields(), "objects": [dim]}
    return {
        "id": FI_ENTRIES,
        "name": "FiEntryPar",
        "description": "Financiële mutaties",
        "fields": _fi_entry_header_fields(),
        "objects": [lines],
    }


# -- token ---------------------------------------------------------------------------------------


def check_token(header: str | None, token_data: str) -> Response | None:
    """None when the `Authorization` header carries the environment's token, else the answer."""
    if not header or not header.startswith("AfasToken "):
        return unauthorized()
    value = header[len("AfasToken ") :].strip()
    if value.lstrip().startswith("<"):
        # Profit 6 enforces base64: a plain-text XML token now gets HTTP 500 [p6].
        return afas_error(AfasError(UNEXPECTED_MESSAGE))
    try:
        xml = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return unauthorized()
    match = _TOKEN_XML.match(xml)
    if match is None or match.group(1).upper() != token_data.upper():
        return unauthorized()
    return None


# -- the application -----------------------------------------------------------------------------


class Simulator:
    """Request handling over one environment (which does its own locking)."""

    def __init__(self, environment: EnvironmentLike, injector: FaultInjector) -> None:
        self.environment = environment
        self.injector = injector
        self.counter = RequestCounter()
        self._connector_ids = {cid.lower(): cid for cid in CONNECTORS}

    async def dispatch(self, request: Request) -> Response:
        segments = [s for s in request.url.path.split("/") if s]
        if not segments or segments[0].lower() != BASE_PATH.strip("/").lower():
            return not_found()
        if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return not_found()
        if request.method == "OPTIONS":  # CORS preflight carries no token
            return Response(b"", status_code=200)
        denied = check_token(request.headers.get("authorization"), self._token_data())
        if denied is not None:
            return denied
        try:
            return await self._route(request, segments[1:])
        except AfasError as exc:
            return afas_error(exc)
        except Exception:
            log.exception("simulator failed on %s %s", request.method, request.url.path)
            return afas_error(AfasError(UNEXPECTED_MESSAGE))

    def _token_data(self) -> str:
        return str(self.environment.config.token_data)

    async def _route(self, request: Request, rest: list[str]) -> Response:
        method = request.method
        lowered = [s.lower() for s in rest]
        if lowered and lowered[0] == ADMIN:
            return await self._admin(request, lowered[1:])
        if lowered == ["profitversion"] and method == "GET":
            return json_response({"version": PROFIT_VERSION, "simulator": SIMULATOR_MARK})
        if lowered[:1] == ["metainfo"] and method == "GET":
            return self._metainfo(rest[1:])
        if lowered[:1] == ["connectors"] and len(rest) >= 2:
            return await self._connectors(request, rest[1:])
        return not_found()

    # -- metainfo --------------------------------------------------------------------------------

    def _metainfo(self, rest: list[str]) -> Response:
        if not rest:
            return json_response(metainfo(self.environment.config))
        kind = rest[0].lower()
        if kind == "get" and len(rest) == 2:
            config = self.environment.config
            spec = self._served_spec(rest[1])
            return json_response(get_connector_info(spec, config.datetime_data_type))
        if kind == "update" and len(rest) == 2:
            if rest[1].lower() != FI_ENTRIES.lower():
                raise AfasError(UPDATE_NOT_SUPPORTED, ERROR_NOT_SUPPORTED)
            return json_response(update_connector_info())
        return not_found()

    def _served_spec(self, connector_id: str) -> ConnectorSpec:
        """The connector as the environment serves it (its fields can differ from the
        contract's: optional ones, or ones an administrator removed)."""
        canonical = self._connector_ids.get(connector_id.lower())
        if canonical is None:
            raise AfasError(GET_NOT_SUPPORTED, ERROR_NOT_SUPPORTED)
        try:
            return self.environment.served_spec(canonical)
        except UnknownConnectorError as exc:  # in the contract but not served
            raise AfasError(GET_NOT_SUPPORTED, ERROR_NOT_SUPPORTED) from exc

    # -- connectors ------------------------------------------------------------------------------

    async def _connectors(self, request: Request, rest: list[str]) -> Response:
        connector_id, method = rest[0], request.method
        if method == "GET" and len(rest) == 1:
            spec = self._served_spec(connector_id)
            # ASP.NET reads query keys case-insensitively (`Skip` works like `skip`).
            params = {key.lower(): value for key, value in request.query_params.items()}
            body = await run_in_threadpool(self._page, spec, params)
            return Response(body, media_type=JSON_TYPE)
        if connector_id.lower() != FI_ENTRIES.lower():
            raise AfasError(UPDATE_NOT_SUPPORTED, ERROR_NOT_SUPPORTED)
        if method == "POST" and len(rest) == 1:
            return await self._post_fi_entry(request)
        if method == "DELETE":
            return await self._delete_fi_entry(rest[1:])
        if method in ("PUT", "POST", "DELETE"):
            # FiEntries has only POST and DELETE (§5.4); a correction is a new entry.
            raise AfasError(
                f"General message: {method} is not supported for UpdateConnector 'FiEntries'.",
                ERROR_NOT_SUPPORTED,
            )
        return not_found()

    def _page(self, spec: ConnectorSpec, params: dict[str, str]) -> bytes:
        frame = self.environment.rows(spec.id)
        return run_query(frame, spec, params).to_json()

    async def _post_fi_entry(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return json_response({"message": "Invalid json"}, 400)
        if not isinstance(payload, dict):
            return json_response({"message": "Invalid json"}, 400)
        result = await run_in_threadpool(self._call_environment, "post_fi_entry", payload)
        keys = {k: str(v) for k, v in result.items()}
        return json_response({"results": {"FiEntryPar": keys}}, 201)

    async def _delete_fi_entry(self, rest: list[str]) -> Response:
        unit_id, journal_id, key, value = parse_fi_entry_delete(rest)
        if key == "EnNo":
            call = ("delete_fi_entry", unit_id, journal_id, value)
        else:
            call = ("delete_fi_invoice", unit_id, journal_id, value)
        await run_in_threadpool(self._call_environment, *call)
        return Response(b"", status_code=200)

    def _call_environment(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self.environment, name)(*args)
        except FiEntryRejected as exc:
            raise AfasError(exc.message, exc.error_number) from exc

    # -- admin -----------------------------------------------------------------------------------

    async def _admin(self, request: Request, rest: list[str]) -> Response:
        handlers: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("GET", "state"): self._admin_state,
            ("POST", "clock"): self._admin_clock,
            ("GET", "faults"): self._admin_faults,
            ("PUT", "faults"): self._admin_set_faults,
            ("GET", "requests"): self._admin_requests,
            ("DELETE", "requests"): self._admin_reset_requests,
            ("PUT", "fields"): self._admin_fields,
            ("POST", "silent_edit"): self._admin_silent_edit,
            ("DELETE", "silent_edit"): self._admin_undo_silent_edits,
        }
        handler = handlers.get((request.method, rest[0] if len(rest) == 1 else ""))
        if handler is None:
            return not_found()
        try:
            return await handler(request)
        except ValueError as exc:
            return json_response({"message": str(exc)}, 400)

    async def _admin_state(self, request: Request) -> Response:
        summary = await run_in_threadpool(self.environment.summary)
        return json_response({"environment": summary, "faults": self.injector.config.to_dict()})

    async def _admin_clock(self, request: Request) -> Response:
        body = await _json_object(request)
        if "to" in body:
            target = datetime.fromisoformat(str(body["to"]))
            result = await run_in_threadpool(self.environment.advance, to=target)
        elif "days" in body:
            days = float(body["days"])
            result = await run_in_threadpool(self.environment.advance, days=days)
        else:
            raise ValueError('expected {"days": n} or {"to": "YYYY-MM-DDTHH:MM:SS"}')
        return json_response(result)

    async def _admin_fields(self, request: Request) -> Response:
        """`{"connector": id, "removed": [field, ...]}`: the connector loses these fields."""
        body = await _json_object(request)
        connector, removed = body.get("connector"), body.get("removed", [])
        if not isinstance(connector, str) or not isinstance(removed, list):
            raise ValueError('expected {"connector": "...", "removed": ["field", ...]}')
        try:
            self.environment.remove_fields(connector, [str(f) for f in removed])
        except UnknownConnectorError as exc:
            raise ValueError(f"unknown connector {connector!r}") from exc
        return json_response({"connector": connector, "removed": removed})

    async def _admin_silent_edit(self, request: Request) -> Response:
        """`{"connector", "key": {...}, "set": {...}}` changes a record, `"delete": true`
        deletes it, without any trace an incremental read could see."""
        body = await _json_object(request)
        connector, key = body.get("connector"), body.get("key")
        values = None if body.get("delete") else body.get("set")
        if not isinstance(connector, str) or not isinstance(key, dict):
            raise ValueError('expected {"connector": "...", "key": {...}, "set": {...}}')
        if values is not None and not isinstance(values, dict):
            raise ValueError('"set" must be an object of field values, or give "delete": true')
        matched = await run_in_threadpool(self.environment.silent_edit, connector, key, values)
        return json_response({"matched": matched})

    async def _admin_undo_silent_edits(self, request: Request) -> Response:
        undone = await run_in_threadpool(self.environment.undo_silent_edits)
        return json_response({"undone": undone})

    async def _admin_faults(self, request: Request) -> Response:
        return json_response(self.injector.config.to_dict())

    async def _admin_set_faults(self, request: Request) -> Response:
        try:
            config = FaultConfig.from_dict(await _json_object(request))
        except TypeError as exc:
            raise ValueError(str(exc)) from exc
        self.injector.configure(config)
        return json_response(config.to_dict())

    async def _admin_requests(self, request: Request) -> Response:
        return json_response(self.counter.snapshot())

    async def _admin_reset_requests(self, request: Request) -> Response:
        self.counter.reset()
        return json_response(self.counter.snapshot())


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ValueError("Invalid json") from exc
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def parse_fi_entry_delete(rest: list[str]) -> tuple[int, str, str, int | str]:
    """(UnId, JoCo, key field, value) from `FiEntryPar/UnId,JoCo/{UnId},{JoCo}/FiEntries/...`:
    `@EnNo/{EnNo}` deletes one entry, `InId/{InvoiceId}` an invoice's entries [fie-del]."""
    lowered = [s.lower() for s in rest]
    key = lowered[4].lstrip("@") if len(rest) == 6 else ""
    shape_ok = (
        len(rest) == 6
        and lowered[0] == "fientrypar"
        and lowered[1] == "unid,joco"
        and lowered[3] == "fientries"
        and key in ("enno", "inid")
        and rest[2].count(",") == 1
    )
    if not shape_ok:
        raise AfasError(
            "General message: FiEntries are deleted by "
            "FiEntryPar/UnId,JoCo/{UnId},{JoCo}/FiEntries/@EnNo/{EnNo} "
            "or .../FiEntries/InId/{InId}.",
            ERROR_NOT_SUPPORTED,
        )
    unit, journal = rest[2].split(",")
    try:
        unit_id = int(unit)
        value: int | str = int(rest[5]) if key == "enno" else rest[5]
    except ValueError as exc:
        raise AfasError(f"Type mismatch: {exc}", ERROR_VALIDATION) from exc
    return unit_id, journal, "InId" if key == "inid" else "EnNo", value


class SimulatorApp(Starlette):
    """Starlette, keeping the server's own `send` in the scope (a dropped connection needs it)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[RAW_SEND_KEY] = send
        await super().__call__(scope, receive, send)


def create_app(environment: EnvironmentLike, faults: FaultConfig | None = None) -> Starlette:
    """The App Connector REST API over `environment`, with optional fault injection."""
    simulator = Simulator(environment, FaultInjector(faults))
    methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]
    app = SimulatorApp(
        routes=[Route("/{path:path}", simulator.dispatch, methods=methods)],
        middleware=[
            Middleware(SimulatorMiddleware, counter=simulator.counter),
            Middleware(
                FaultMiddleware,
                injector=simulator.injector,
                base_path=BASE_PATH,
                admin_segment=ADMIN,
            ),
        ],
    )
    app.state.simulator = simulator
    return app
