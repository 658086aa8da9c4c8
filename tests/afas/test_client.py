from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import polars as pl
import pytest

from afas_pipeline.afas import (
    AfasAmbiguousWriteError,
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasClient,
    AfasConfigError,
    AfasConnectorBlockedError,
    AfasError,
    AfasFieldNotFoundError,
    AfasMaintenanceError,
    AfasNotFoundError,
    AfasPayloadTooLargeError,
    AfasResponseError,
    AfasSchemaError,
    AfasSettings,
    AfasTransientError,
    AfasValidationError,
    F,
    PageQuery,
    RetryPolicy,
)
from afas_pipeline.contract import CONNECTORS, order_keys

HEX = "949C1A9CD9AE4797950D94F55A7A4D056770472D4963CB9A8D3800BEE0CCE6A2"
XML = f"<token><version>1</version><data>{HEX}</data></token>"
BASE = "https://12345.rest.afas.online/ProfitRestServices"
SETTINGS = AfasSettings.create(token=HEX, environment=12345)
SECRETS = (HEX, base64.b64encode(XML.encode()).decode())
ADMINS = "Profit_Administrations"

Handler = Callable[[httpx.Request], httpx.Response]


def metainfo(connector_id: str) -> dict[str, Any]:
    spec = CONNECTORS[connector_id]
    fields = [
        {
            "id": f.id,
            "fieldId": f"U{i:03}",
            # AFAS has no datetime dataType (afas-api.md §4).
            "dataType": "date" if f.data_type == "datetime" else f.data_type,
            "label": f.label,
            "length": f.length,
            "decimals": f.decimals,
            "controlType": 1,
        }
        for i, f in enumerate(spec.fields)
    ]
    return {"name": spec.id, "description": spec.description, "fields": fields}


def admin_rows(n: int) -> list[dict[str, Any]]:
    return [{"AdminId": i, "AdminNm": f"Admin {i}", "AdminCd": f"A{i}"} for i in range(1, n + 1)]


class FakeAfas:
    """A hand-made AFAS: metainfo from the contract, rows per connector, skip/take paging."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], delay: float = 0.0) -> None:
        self.rows = rows
        self.delay = delay
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        # Responses to give instead, first come first served (then normal behaviour).
        self.overrides: list[Handler] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            override = self.overrides.pop(0) if self.overrides else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if override is not None:
                return override(request)
            return self.answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/ProfitRestServices")
        if path.startswith("/metainfo/get/"):
            connector = path.rsplit("/", 1)[1]
            if connector not in CONNECTORS:
                return httpx.Response(404)
            return httpx.Response(200, json=metainfo(connector))
        if path.startswith("/connectors/"):
            connector = path.split("/")[2]
            skip = int(request.url.params["skip"])
            take = int(request.url.params["take"])
            rows = self.rows[connector][skip : skip + take]
            body = json.dumps({"skip": skip, "take": take, "rows": rows}, default=str)
            return httpx.Response(200, content=body.replace('"%D', "").replace('%D"', ""))
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [str(r.url).removeprefix(BASE) for r in self.requests]


def make_client(fake: Handler, **kwargs: Any) -> AfasClient:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    kwargs.setdefault("retry", RetryPolicy(sleep=lambda _s: None))
    kwargs.setdefault("order_keys", order_keys())
    return AfasClient(SETTINGS, http_client=http, **kwargs)


def error_body(message: str) -> Handler:
    body = {
        "externalMessage": message,
        "errorNumber": -2147220469,
        "profitLogReference": "B8213AF1C3C54E579686406A8DE71C6C",
    }
    return lambda _r: httpx.Response(500, json=body)


def assert_no_secret(error: BaseException) -> None:
    for secret in SECRETS:
        assert secret not in str(error)
        assert secret not in repr(error)


# -- paging ------------------------------------------------------------------------------------


def test_headers_and_one_page() -> None:
    fake = FakeAfas({ADMINS: admin_rows(3)})
    with make_client(fake) as client:
        pages = list(client.iter_pages(ADMINS))
    assert [p.row_count for p in pages] == [3]
    assert pages[0].frame["AdminNm"].to_list() == ["Admin 1", "Admin 2", "Admin 3"]
    request = fake.requests[-1]
    assert request.headers["Authorization"] == "AfasToken " + SECRETS[1]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Accept-Language"] == "nl-nl"
    assert request.headers.get("Connection", "").lower() != "close"
    assert "Content-Type" not in request.headers
    # take = 150,000 // 3 fields; ordered by the contract key.
    assert (
        fake.paths()[-1]
        == "/connectors/Profit_Administrations?skip=0&take=50000&orderbyfieldids=AdminId"
    )


def test_pages_until_a_short_page() -> None:
    fake = FakeAfas({ADMINS: admin_rows(5)})
    with make_client(fake) as client:
        pages = list(client.iter_pages(ADMINS, page_size=2))
    assert [(p.skip, p.take, p.row_count) for p in pages] == [(0, 2, 2), (2, 2, 2), (4, 2, 1)]
    assert fake.paths()[0] == "/metainfo/get/Profit_Administrations"
    assert len(fake.requests) == 4


def test_exact_multiple_ends_with_an_empty_page() -> None:
    fake = FakeAfas({ADMINS: admin_rows(4)})
    with make_client(fake) as client:
        pages = list(client.iter_pages(ADMINS, page_size=2))
    assert [p.row_count for p in pages] == [2, 2, 0]
    assert "skip=-1" not in "".join(fake.paths())


def test_take_from_metainfo_and_capped() -> None:
    connector = "DWH_Financiele_mutaties"
    fake = FakeAfas({connector: []})
    with make_client(fake) as client:
        page = next(client.iter_pages(connector, page_size=1_000_000))
    assert page.take == 150_000 // 21
    assert "orderbyfieldids=UnitId%2CEntryNo%2CSeqNo" in fake.paths()[-1]


def test_generator_fetches_lazily() -> None:
    fake = FakeAfas({ADMINS: admin_rows(10)})
    with make_client(fake) as client:
        pages = client.iter_pages(ADMINS, page_size=2)
        first = next(pages)
        assert first.row_count == 2
        assert len(fake.requests) == 2  # metainfo + one page, not all five
        pages.close()


def test_metainfo_is_cached() -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake) as client:
        list(client.iter_pages(ADMINS))
        list(client.iter_pages(ADMINS))
    assert sum(p.startswith("/metainfo") for p in fake.paths()) == 1


def test_order_by_needed_outside_the_contract() -> None:
    fake = FakeAfas({})
    fake.overrides.append(lambda _r: httpx.Response(200, json={"name": "X", "fields": []}))
    with make_client(fake) as client, pytest.raises(AfasConfigError, match="give order_by"):
        next(client.iter_pages("Custom_Connector"))


def test_order_by_unknown_field() -> None:
    with make_client(FakeAfas({})) as client, pytest.raises(AfasConfigError, match="'Nope'"):
        next(client.iter_pages(ADMINS, order_by=["-Nope"]))


def test_filter_is_sent() -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake) as client:
        list(client.iter_pages(ADMINS, filter=(F("AdminId") >= 1) | F("AdminNm").is_empty()))
    params = fake.requests[-1].url.params
    assert params["filterfieldids"] == "AdminId;AdminNm"
    assert params["operatortypes"] == "2;8"
    assert params["filtervalues"] == "1;"


def test_query_string_limit_is_enforced_before_sending() -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake) as client:
        with pytest.raises(AfasNotFoundError, match="over AFAS's limit of 2049") as info:
            next(client.iter_pages(ADMINS, filter=F("AdminNm") == "x" * 2100))
        assert info.value.query_too_long
        assert fake.paths() == ["/metainfo/get/Profit_Administrations"]
        list(client.iter_pages(ADMINS, filter=F("AdminNm") == "x" * 1900))


def test_decimals_exact_through_the_client() -> None:
    connector = "Profit_Period_balance"
    row = {"UnitId": 1, "Year": 2025, "AccountNr": "8010", "AccountDesc": "Omzet"}
    rows = [
        {**row, "Period": p, "Debit": f"%D{d}%D", "Credit": "%D0%D", "Balance": f"%D{d}%D"}
        for p, d in ((1, "0.1"), (2, "0.2"))
    ]
    with make_client(FakeAfas({connector: rows})) as client:
        frame = next(client.iter_pages(connector)).frame
    assert frame["Debit"].sum() == Decimal("0.30")
    assert str(frame["Balance"].dtype) == "Decimal(precision=18, scale=2)"


def test_schema_error_from_a_page() -> None:
    rows = admin_rows(3)
    rows[2]["AdminId"] = "3"
    expected = "row 2 of connector Profit_Administrations"
    with (
        make_client(FakeAfas({ADMINS: rows})) as client,
        pytest.raises(AfasSchemaError, match=expected),
    ):
        list(client.iter_pages(ADMINS))


def test_stats() -> None:
    fake = FakeAfas({ADMINS: admin_rows(5)})
    with make_client(fake) as client:
        before = client.stats.snapshot()
        list(client.iter_pages(ADMINS, page_size=2))
        diff = client.stats.snapshot() - before
    assert (diff.api_calls, diff.pages, diff.rows, diff.retries) == (4, 3, 5, 0)
    assert diff.bytes > 0


# -- errors ------------------------------------------------------------------------------------


def fail_first(fake: FakeAfas, *handlers: Handler) -> AfasClient:
    """A client whose first requests after metainfo get the given answers."""
    fake.overrides.extend(handlers)
    return make_client(fake)


@pytest.mark.parametrize("status", [401, 403])
def test_authentication_errors_are_not_retried(status: int) -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    client = fail_first(fake, lambda _r: httpx.Response(status))
    with client, pytest.raises(AfasAuthenticationError) as info:
        client.describe_get_connector(ADMINS)
    message = str(info.value)
    assert "environment 12345 (production)" in message
    assert "token" in message
    assert "IP restriction" in message
    assert f"HTTP {status}" in message
    assert len(fake.requests) == 1
    assert_no_secret(info.value)


def test_not_found() -> None:
    fake = FakeAfas({})
    with make_client(fake) as client, pytest.raises(AfasNotFoundError, match="connector id"):
        client.list_connectors()


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("The entered value for 'Employee' does not exist.", AfasValidationError),
        ("This GetConnector (definition) is blocked", AfasConnectorBlockedError),
        ("Connector field 'Foo' not found", AfasFieldNotFoundError),
        ("Out of memory", AfasPayloadTooLargeError),
        ("Out of String space", AfasPayloadTooLargeError),
    ],
)
def test_500_messages_map_to_classes_and_are_not_retried(
    message: str, cls: type[AfasValidationError]
) -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake) as client:
        client.describe_get_connector(ADMINS)
        fake.overrides.append(error_body(message))
        with pytest.raises(cls) as info:
            list(client.iter_pages(ADMINS))
    error = info.value
    assert type(error) is cls
    assert error.external_message == message
    assert error.error_number == -2147220469
    assert error.profit_log_reference == "B8213AF1C3C54E579686406A8DE71C6C"
    assert error.status == 500
    assert error.connector_id == ADMINS
    assert message in str(error)
    assert "B8213AF1C3C54E579686406A8DE71C6C" in str(error)
    assert "GET /connectors/Profit_Administrations?skip=0" in str(error)
    assert len(fake.requests) == 2
    if cls is AfasFieldNotFoundError:
        assert error.field == "Foo"  # type: ignore[attr-defined]
    if cls is AfasPayloadTooLargeError:
        assert "lower the page size" in str(error)
    assert_no_secret(error)


@pytest.mark.parametrize(
    "answer",
    [
        error_body("An unexpected error has occurred."),
        error_body("De maximale tijdsduur voor het uitvoeren van de opdracht is verstreken."),
        error_body("The maximum duration for performing the assignment has been exceeded."),
        error_body("De boekingslayout is geblokkeerd door een andere gebruiker."),
        error_body("The booking layout is blocked by another user."),
        lambda _r: httpx.Response(502),
        lambda _r: httpx.Response(504),
        lambda _r: httpx.Response(503, headers={"Retry-After": "1"}),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("down", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError("reset", request=r)),
    ],
)
def test_transient_get_errors_are_retried(answer: Handler) -> None:
    fake = FakeAfas({ADMINS: admin_rows(2)})
    with make_client(fake) as client:
        client.describe_get_connector(ADMINS)
        fake.overrides.extend([answer, answer])
        pages = list(client.iter_pages(ADMINS))
        assert client.stats.snapshot().retries == 2
    assert pages[0].row_count == 2


def test_classes_of_transient_errors() -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake, retry=RetryPolicy(max_attempts=1)) as client:
        client.describe_get_connector(ADMINS)
        fake.overrides.append(error_body("The booking layout is blocked by another user."))
        with pytest.raises(AfasBookingLayoutLockedError):
            list(client.iter_pages(ADMINS))
        fake.overrides.append(error_body("An unexpected error has occurred."))
        with pytest.raises(AfasTransientError, match="unexpected error"):
            list(client.iter_pages(ADMINS))


def test_maintenance_retry_after_from_header_and_body() -> None:
    slept: list[float] = []
    fake = FakeAfas({ADMINS: admin_rows(1)})
    body = {"error": {"code": "503", "message": "maintenance"}, "retry_after": 7}
    fake.overrides = [
        lambda _r: httpx.Response(503, headers={"Retry-After": "5"}),
        lambda _r: httpx.Response(503, json=body),
    ]
    policy = RetryPolicy(sleep=slept.append, random=lambda: 0.0)
    with make_client(fake, retry=policy) as client:
        client.describe_get_connector(ADMINS)
    assert slept == [5.0, 7.0]


def test_maintenance_longer_than_the_budget_gives_up() -> None:
    fake = FakeAfas({})
    body = {"error": {"code": "503"}, "retry_after": 7200}
    fake.overrides = [lambda _r: httpx.Response(503, json=body, headers={"Retry-After": "7200"})]
    with make_client(fake) as client, pytest.raises(AfasMaintenanceError) as info:
        client.describe_get_connector(ADMINS)
    assert info.value.retry_after == 7200
    assert "retry after 7200 s" in str(info.value)
    assert len(fake.requests) == 1


def test_retries_run_out_with_attempt_count() -> None:
    fake = FakeAfas({})
    fake.overrides = [lambda _r: httpx.Response(502)] * 10
    client = make_client(fake, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))
    with client, pytest.raises(AfasTransientError, match="gave up after 3 attempts"):
        client.describe_get_connector(ADMINS)
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (lambda _r: httpx.Response(200, content=b"<html>"), "not valid JSON"),
        (lambda _r: httpx.Response(200, content=b""), "empty body"),
        (lambda _r: httpx.Response(200, json={"skip": 0, "take": 1}), "no 'rows'"),
    ],
)
def test_bad_success_bodies(answer: Handler, match: str) -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    with make_client(fake) as client:
        client.describe_get_connector(ADMINS)
        fake.overrides.append(answer)
        with pytest.raises(AfasResponseError, match=match):
            list(client.iter_pages(ADMINS))


def test_logging_has_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeAfas({ADMINS: admin_rows(1)})
    fake.overrides.append(lambda _r: httpx.Response(502))
    with caplog.at_level(logging.DEBUG, logger="afas_pipeline.afas"), make_client(fake) as client:
        list(client.iter_pages(ADMINS))
    text = caplog.text
    assert "GET /connectors/Profit_Administrations" in text
    assert "retrying" in text
    for secret in SECRETS:
        assert secret not in text


# -- writes ------------------------------------------------------------------------------------

PAYLOAD = {"FiEntryPar": {"Element": {"Fields": {"Year": 2025, "Peri": 1, "UnId": 1}}}}
CREATED = {"results": {"FiEntryPar": {"UnId": "1", "EnNo": "5789"}}}


def test_post() -> None:
    fake = FakeAfas({})
    fake.overrides.append(lambda _r: httpx.Response(201, json=CREATED))
    with make_client(fake) as client:
        result = client.post("FiEntries", PAYLOAD)
    assert result.status == 201
    assert result.results == CREATED["results"]
    request = fake.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/connectors/FiEntries"
    assert request.headers["Content-Type"] == "application/json;charset=utf-8"
    assert json.loads(request.content) == PAYLOAD


def test_post_with_empty_body() -> None:
    fake = FakeAfas({})
    fake.overrides.append(lambda _r: httpx.Response(201))
    with make_client(fake) as client:
        assert client.put("KnSubject", {}).results == {}


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteTimeout]
)
def test_post_after_send_is_ambiguous_and_not_retried(exc: type[httpx.TransportError]) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc("gone", request=request)

    fake = FakeAfas({})
    fake.overrides.extend([boom, lambda _r: httpx.Response(201, json=CREATED)])
    with make_client(fake) as client, pytest.raises(AfasAmbiguousWriteError) as info:
        client.post("FiEntries", PAYLOAD)
    assert len(fake.requests) == 1
    assert "may or may not have applied" in str(info.value)
    assert "POST /connectors/FiEntries" in str(info.value)


@pytest.mark.parametrize("status", [503, 502, 504])
def test_a_write_answered_by_a_gateway_or_maintenance_is_ambiguous(status: int) -> None:
    """A 503 (or 502/504) may come after AFAS applied the POST: never posted again blindly."""
    fake = FakeAfas({})
    fake.overrides.extend(
        [
            lambda _r: httpx.Response(status, headers={"Retry-After": "1"}),
            lambda _r: httpx.Response(201, json=CREATED),
        ]
    )
    with make_client(fake) as client, pytest.raises(AfasAmbiguousWriteError) as info:
        client.post("FiEntries", PAYLOAD)
    assert len(fake.requests) == 1
    assert info.value.status == status
    assert "check in AFAS before sending it again" in str(info.value)


@pytest.mark.parametrize(
    "first",
    [
        error_body("The booking layout is blocked by another user."),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ConnectTimeout("slow", request=r)),
    ],
)
def test_post_retries_safe_failures(first: Handler) -> None:
    fake = FakeAfas({})
    fake.overrides.extend([first, lambda _r: httpx.Response(201, json=CREATED)])
    with make_client(fake) as client:
        assert client.post("FiEntries", PAYLOAD).results == CREATED["results"]
    assert len(fake.requests) == 2


def test_post_validation_error_not_retried() -> None:
    fake = FakeAfas({})
    fake.overrides.append(error_body("Date '1-11-2024' belongs to a blocked period"))
    with make_client(fake) as client, pytest.raises(AfasValidationError, match="blocked period"):
        client.post("FiEntries", PAYLOAD)
    assert len(fake.requests) == 1


def test_post_transient_500_not_retried() -> None:
    fake = FakeAfas({})
    fake.overrides.append(error_body("An unexpected error has occurred."))
    with make_client(fake) as client, pytest.raises(AfasTransientError):
        client.post("FiEntries", PAYLOAD)
    assert len(fake.requests) == 1


def test_delete_url_with_composite_keys() -> None:
    fake = FakeAfas({})
    fake.overrides.append(lambda _r: httpx.Response(200))
    with make_client(fake) as client:
        result = client.delete(
            "FiEntries", [("FiEntryPar", {"UnId": 1, "JoCo": "80"}), ("FiEntries", {"@EnNo": 5789})]
        )
    assert result.status == 200
    assert result.results == {}
    request = fake.requests[0]
    assert request.method == "DELETE"
    assert request.url.raw_path == (
        b"/ProfitRestServices/connectors/FiEntries/FiEntryPar/UnId,JoCo/1,80/FiEntries/@EnNo/5789"
    )


def test_delete_encodes_values() -> None:
    fake = FakeAfas({})
    fake.overrides.append(lambda _r: httpx.Response(200))
    with make_client(fake) as client:
        client.delete("FiEntries", [("FiEntryPar", {"UnId": 1, "JoCo": "a/b c"})])
    assert fake.requests[0].url.raw_path.endswith(b"/UnId,JoCo/1,a%2Fb%20c")


# -- concurrency -------------------------------------------------------------------------------


def test_max_concurrency_limit() -> None:
    with pytest.raises(AfasConfigError, match="at most 8 parallel calls"):
        AfasClient(SETTINGS, max_concurrency=9)


def test_iter_pages_many_bounds_in_flight_requests() -> None:
    fake = FakeAfas({ADMINS: admin_rows(9)}, delay=0.01)
    queries = [PageQuery(ADMINS, page_size=2, tag=i) for i in range(6)]
    with make_client(fake, max_concurrency=3) as client:
        client.describe_get_connector(ADMINS)
        results = list(client.iter_pages_many(queries))
    assert fake.max_in_flight == 3
    assert len(results) == 6 * 5
    for i in range(6):
        mine = [page for query, page in results if query.tag == i]
        assert [p.skip for p in mine] == [0, 2, 4, 6, 8]
        assert sum(p.row_count for p in mine) == 9


def test_iter_pages_many_propagates_the_first_error() -> None:
    fake = FakeAfas({ADMINS: admin_rows(50)}, delay=0.005)
    queries = [PageQuery(ADMINS, page_size=1, tag=i) for i in range(4)]
    queries.insert(1, PageQuery("Unknown_Connector", order_by=["X"]))
    with make_client(fake, max_concurrency=2) as client:
        client.describe_get_connector(ADMINS)
        with pytest.raises(AfasNotFoundError):
            list(client.iter_pages_many(queries))
        # The other worker stopped promptly instead of reading all 4 x 50 pages.
        assert len(fake.requests) < 20


def test_iter_pages_many_early_close_stops_workers() -> None:
    fake = FakeAfas({ADMINS: admin_rows(100)})
    queries = [PageQuery(ADMINS, page_size=1, tag=i) for i in range(3)]
    with make_client(fake, max_concurrency=3) as client:
        pages = client.iter_pages_many(queries)
        next(pages)
        pages.close()
        count = len(fake.requests)
        time.sleep(0.05)
        assert len(fake.requests) == count
        assert count < 20


def test_errors_keep_context_when_pickled() -> None:
    import pickle

    error = AfasFieldNotFoundError("x", field="F", method="GET", path="/p", status=500)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, AfasError)
    assert (copy.field, copy.status, str(copy)) == ("F", 500, str(error))


# -- types by meaning: AFAS's metainfo says "date" for datetimes ---------------------------------


def custom_connector(pages: list[list[dict[str, Any]]]) -> Handler:
    """A connector the client has never seen, answering metainfo as AFAS does: every
    temporal field is a "date", whatever its values hold."""
    fields = [
        {"id": "Id", "fieldId": "U001", "dataType": "int", "label": "Nummer"},
        {"id": "Geboortedatum", "fieldId": "U002", "dataType": "date", "label": "Datum"},
        {"id": "Gewijzigd_op", "fieldId": "U003", "dataType": "date", "label": "Gewijzigd"},
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        if "/metainfo/get/" in request.url.path:
            return httpx.Response(200, json={"name": "Custom", "fields": fields})
        skip, take = int(request.url.params["skip"]), int(request.url.params["take"])
        rows = pages[skip // take] if skip // take < len(pages) else []
        return httpx.Response(200, json={"skip": skip, "take": take, "rows": rows})

    return answer


def test_date_fields_that_carry_times_load_as_datetimes_to_the_second() -> None:
    rows = [
        {"Id": 1, "Geboortedatum": "1980-02-29T00:00:00Z", "Gewijzigd_op": "2025-03-30T03:15:07Z"},
        {"Id": 2, "Geboortedatum": None, "Gewijzigd_op": "2025-10-26T02:30:00Z"},
        {"Id": 3, "Geboortedatum": "2001-12-31T00:00:00Z", "Gewijzigd_op": "2025-01-01T00:00:00Z"},
    ]
    with make_client(custom_connector([rows])) as client:
        frame = next(client.iter_pages("Custom", order_by=["Id"])).frame
    assert frame.schema["Geboortedatum"] == pl.Date  # all midnight: a date it stays
    assert frame.schema["Gewijzigd_op"] == pl.Datetime("us")
    assert frame["Geboortedatum"].to_list() == [dt.date(1980, 2, 29), None, dt.date(2001, 12, 31)]
    # Amsterdam wall-clock to the second; the meaningless Z ignored, nothing truncated.
    assert frame["Gewijzigd_op"].to_list() == [
        dt.datetime(2025, 3, 30, 3, 15, 7),
        dt.datetime(2025, 10, 26, 2, 30),
        dt.datetime(2025, 1, 1),
    ]


def test_the_contract_types_its_datetimes_whatever_one_page_holds() -> None:
    # Migrated debtors created at midnight: a page whose CreateDate values are all midnight is
    # still a datetime column, so every page and the raw files keep one schema.
    def debtor(i: int, created: str) -> dict[str, Any]:
        base = dict.fromkeys(CONNECTORS["DWH_Debiteuren"].field_ids)
        return {**base, "DebtorId": str(10_000 + i), "Blocked": False,
                "CreateDate": created, "Mutatie_datum": "2025-06-02T09:00:00Z"}  # fmt: skip

    rows = [debtor(1, "2019-01-01T00:00:00Z"), debtor(2, "2020-05-04T00:00:00Z")]
    fake = FakeAfas({"DWH_Debiteuren": rows})
    meanings = {"DWH_Debiteuren": {"CreateDate": "datetime", "Mutatie_datum": "datetime"}}
    with make_client(fake, field_meanings=meanings) as client:
        frame = next(client.iter_pages("DWH_Debiteuren")).frame
        schema = client.describe_get_connector("DWH_Debiteuren").polars_schema()
    assert frame.schema == schema
    assert schema["CreateDate"] == pl.Datetime("us")
    assert frame["CreateDate"].to_list() == [dt.datetime(2019, 1, 1), dt.datetime(2020, 5, 4)]


def test_a_contract_date_that_carries_a_time_is_refused_by_name() -> None:
    # EntryDate is a date in the contract: a time there means the connector was changed.
    rows = [{"EntryDate": "2025-01-09T10:00:00Z", "Modified": "2025-01-09T10:00:00Z"}]
    fake = FakeAfas({"Profit_Fin_ChangedEntrydate": rows})
    meanings = {"Profit_Fin_ChangedEntrydate": {"EntryDate": "date", "Modified": "datetime"}}
    with (
        make_client(fake, field_meanings=meanings) as client,
        pytest.raises(AfasSchemaError, match="field 'EntryDate' is not a valid date"),
    ):
        next(client.iter_pages("Profit_Fin_ChangedEntrydate"))
