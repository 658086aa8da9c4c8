"""Protocol conformance of the simulator's HTTP layer, in-process (afas-api.md §2-§6)."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from afas_pipeline.contract import CONNECTORS, ConnectorSpec
from afas_pipeline.simulator.app import create_app
from afas_pipeline.simulator.environment import Environment, FiEntryRejected, SimulatorConfig

with warnings.catch_warnings():
    # starlette 1.10 prefers the `httpx2` package for its TestClient; httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN_DATA = "949C1A9CD9AE4797950D94F55A7A4D056770472D4963CB9A8D3800BEE0CCE6A2"
BASE = "/ProfitRestServices"


def token_header(data: str = TOKEN_DATA) -> dict[str, str]:
    xml = f"<token><version>1</version><data>{data}</data></token>"
    return {"Authorization": "AfasToken " + base64.b64encode(xml.encode()).decode()}


# -- a fake Environment with hand-picked data (DST night, reverse stored order, fixed answers) ----
# Most tests use it because they need to know the exact rows; the tests at the end of this module
# run the same protocol against the real `Environment`.


@dataclass
class FakeConfig:
    seed: int = 1
    token_data: str = TOKEN_DATA
    environment_id: str = "O12345AA"
    now: datetime = datetime(2025, 11, 20, 12, 0)
    datetime_data_type: str = "date"


_SAMPLES: dict[str, Any] = {
    "int": lambda i: i,
    "string": lambda i: f"Waarde {i}" if i % 4 else None,
    "decimal": lambda i: Decimal(i * 137 - 500) / 100,
    "date": lambda i: date(2025, 3, 28) + timedelta(days=i % 5),
    "datetime": lambda i: datetime(2025, 3, 30, 2, 15) + timedelta(hours=i - 1),
    "boolean": lambda i: i % 2 == 0,
}
_DTYPES: dict[str, Any] = {
    "int": pl.Int64,
    "string": pl.String,
    "decimal": pl.Decimal(18, 2),
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "boolean": pl.Boolean,
}


def sample_frame(connector_id: str, rows: int = 250) -> pl.DataFrame:
    """Rows stored in reverse key order, so ordering is visible; row 0 is on the DST night."""
    spec = CONNECTORS[connector_id]
    data = {
        f.id: [_SAMPLES[f.data_type](i) for i in range(rows, 0, -1)]
        if f.id not in spec.key
        else [i for i in range(rows, 0, -1)]
        for f in spec.fields
    }
    schema = {
        f.id: (pl.Int64 if f.id in spec.key and f.data_type == "int" else _DTYPES[f.data_type])
        for f in spec.fields
    }
    frame = pl.DataFrame(data, schema=schema, strict=False)
    return frame.with_columns(
        pl.col(c).cast(pl.String) for c in spec.key if spec.field(c).data_type == "string"
    )


@dataclass
class FakeEnvironment:
    config: FakeConfig = field(default_factory=FakeConfig)
    posted: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[tuple[int, str, int | str]] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.config.now

    def advance(self, *, days: float = 0, to: datetime | None = None) -> dict[str, Any]:
        self.config.now = to or self.config.now + timedelta(days=days)
        return {"now": self.config.now, "added": 0}

    def rows(self, connector_id: str) -> pl.DataFrame:
        if connector_id not in self.frames:
            self.frames[connector_id] = sample_frame(connector_id)
        return self.frames[connector_id]

    def served_spec(self, connector_id: str) -> ConnectorSpec:
        return CONNECTORS[connector_id]

    def post_fi_entry(self, payload: dict[str, Any]) -> dict[str, Any]:
        fields = payload["FiEntryPar"]["Element"]["Fields"]
        if fields.get("JoCo") == "99":
            raise FiEntryRejected("The entered value for 'Dagboek' does not exist.", -2147220469)
        self.posted.append(payload)
        return {"UnId": fields.get("UnId", "1"), "EnNo": str(5789 + len(self.posted)), "InId": ""}

    def delete_fi_entry(self, unit_id: int, journal_id: str, entry_no: int) -> None:
        if entry_no == 404:
            raise FiEntryRejected("Journal entry 404 does not exist.", -2147220469)
        self.deleted.append((unit_id, journal_id, entry_no))

    def delete_fi_invoice(self, unit_id: int, journal_id: str, invoice_id: str) -> None:
        self.deleted.append((unit_id, journal_id, invoice_id))

    def summary(self) -> dict[str, Any]:
        return {"now": self.config.now, "posted": len(self.posted)}


@pytest.fixture
def environment() -> FakeEnvironment:
    return FakeEnvironment()


@pytest.fixture
def client(environment: FakeEnvironment) -> Iterator[TestClient]:
    with TestClient(create_app(environment), headers=token_header()) as test_client:
        yield test_client


def rows_of(client: TestClient, connector: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/connectors/{connector}", params=params)
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def assert_afas_error(response: Any, status: int, fragment: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"externalMessage", "errorNumber", "profitLogReference"}
    assert fragment in body["externalMessage"]
    assert isinstance(body["errorNumber"], int)
    reference = body["profitLogReference"]
    assert len(reference) == 32
    assert reference == reference.upper()
    int(reference, 16)
    return body


# -- GetConnector --------------------------------------------------------------------------------

MUTATIONS = "DWH_Financiele_mutaties"


def test_envelope_defaults_and_headers(client: TestClient) -> None:
    response = client.get(f"{BASE}/connectors/{MUTATIONS}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE, OPTIONS"
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert "x-afas-proxy-version" in response.headers
    assert "\n" not in response.text
    body = response.json()
    assert (body["skip"], body["take"], len(body["rows"])) == (0, 100, 100)
    assert list(body["rows"][0]) == list(CONNECTORS[MUTATIONS].field_ids)


def test_skip_take_are_echoed_and_empty_page(client: TestClient) -> None:
    body = client.get(f"{BASE}/connectors/{MUTATIONS}", params={"skip": 240, "take": 50}).json()
    assert (body["skip"], body["take"], len(body["rows"])) == (240, 50, 10)
    body = client.get(f"{BASE}/connectors/{MUTATIONS}", params={"skip": 250, "take": 50}).json()
    assert body == {"skip": 250, "take": 50, "rows": []}


def test_minus_one_returns_all_and_bad_combination_is_500(client: TestClient) -> None:
    assert len(rows_of(client, MUTATIONS, skip="-1", take="-1")) == 250
    response = client.get(f"{BASE}/connectors/{MUTATIONS}", params={"skip": 2, "take": -1})
    body = assert_afas_error(response, 500, "An unexpected error has occurred.")
    assert body["errorNumber"] == -2147180999


def test_paging_by_key_reassembles_the_table(client: TestClient) -> None:
    order = "UnitId,EntryNo,SeqNo"
    pages = [
        rows_of(client, MUTATIONS, skip=str(s), take="40", orderbyfieldids=order)
        for s in range(0, 280, 40)
    ]
    keys = [(r["UnitId"], r["EntryNo"], r["SeqNo"]) for page in pages for r in page]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys)) == 250
    descending = rows_of(client, MUTATIONS, orderbyfieldids="-EntryNo", take="3")
    assert [r["EntryNo"] for r in descending] == [250, 249, 248]


def test_bare_request_keeps_the_stored_order(client: TestClient) -> None:
    first = rows_of(client, MUTATIONS, take="5")
    assert [r["EntryNo"] for r in first] == [250, 249, 248, 247, 246]
    assert first == rows_of(client, MUTATIONS, take="5")


def test_amounts_are_exact_decimals(client: TestClient, environment: FakeEnvironment) -> None:
    response = client.get(f"{BASE}/connectors/{MUTATIONS}", params={"skip": -1, "take": -1})
    rows = json.loads(response.text, parse_float=Decimal)["rows"]
    expected = environment.rows(MUTATIONS)
    for name in ("AmtDebit", "AmtCredit", "VatAmt"):
        assert [r[name] for r in rows] == expected[name].to_list()
    assert "-.5" not in response.text


def test_datetimes_are_amsterdam_wall_clock_with_z(client: TestClient) -> None:
    row = rows_of(client, MUTATIONS, take="1", orderbyfieldids="EntryNo")[0]
    assert row["Mutatie_datum"] == "2025-03-30T02:15:00Z"
    dst = rows_of(
        client,
        MUTATIONS,
        filterfieldids="Mutatie_datum",
        filtervalues="2025-03-30T02:15:00",
        operatortypes="1",
    )
    assert [r["Mutatie_datum"] for r in dst] == ["2025-03-30T02:15:00Z"]
    assert dst[0]["EntryDate"].endswith("T00:00:00Z")


def test_nulls_booleans_and_ints(client: TestClient) -> None:
    (row,) = rows_of(
        client, "DWH_Debiteuren", filterfieldids="DebtorId", filtervalues="4", operatortypes="1"
    )
    assert row["DebtorId"] == "4"
    assert isinstance(row["Blocked"], bool)
    assert any(value is None for value in row.values())


def test_filters_over_http(client: TestClient) -> None:
    rows = rows_of(
        client,
        MUTATIONS,
        filterfieldids="EntryNo,EntryNo;EntryNo",
        filtervalues="10,12;200",
        operatortypes="2,5;1",
        orderbyfieldids="EntryNo",
    )
    assert [r["EntryNo"] for r in rows] == [10, 11, 200]
    document = {
        "Filters": {"Filter": {"Field": {"@FieldId": "SeqNo", "@OperatorType": "1", "#text": "7"}}}
    }
    rows = rows_of(client, MUTATIONS, filterjson=json.dumps(document))
    assert [r["SeqNo"] for r in rows] == [7]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"orderbyfieldids": "Nope"}, "Connector field 'Nope' not found"),
        (
            {"filterfieldids": "Nope", "filtervalues": "1", "operatortypes": "1"},
            "Connector field 'Nope' not found",
        ),
        (
            {"filterfieldids": "EntryNo", "filtervalues": "1;2", "operatortypes": "1"},
            "does not match",
        ),
        (
            {"filterfieldids": "EntryNo", "filtervalues": "1", "operatortypes": "42"},
            "Unknown operator",
        ),
        ({"filterfieldids": "EntryNo", "filtervalues": "x", "operatortypes": "1"}, "Type mismatch"),
    ],
)
def test_malformed_queries_are_afas_500s(
    client: TestClient, params: dict[str, str], fragment: str
) -> None:
    response = client.get(f"{BASE}/connectors/{MUTATIONS}", params=params)
    assert_afas_error(response, 500, fragment)


def test_unknown_get_connector(client: TestClient) -> None:
    response = client.get(f"{BASE}/connectors/Profit_Nope")
    body = assert_afas_error(response, 500, "GetConnector not supported for this app")
    assert body["errorNumber"] == -2147180996
    response = client.get(f"{BASE}/metainfo/get/Profit_Nope")
    assert_afas_error(response, 500, "GetConnector not supported for this app")


def test_path_case_does_not_matter(client: TestClient) -> None:
    assert client.get(f"/profitrestservices/connectors/{MUTATIONS}?take=1").status_code == 200
    assert client.get("/PROFITRESTSERVICES/MetaInfo").status_code == 200
    # AFAS answers {"version": ...}; the simulator also says that it is one.
    assert client.get("/profitrestservices/profitversion").json() == {
        "version": "22.22.5",
        "simulator": "afas-pipeline simulator",
    }


def test_unknown_paths_are_404(client: TestClient) -> None:
    assert client.get("/elsewhere").status_code == 404
    assert client.get(f"{BASE}/nothing/here").status_code == 404


def test_long_query_string_is_404(client: TestClient) -> None:
    query = "take=1&orderbyfieldids=EntryNo&a="
    query += "x" * (2048 - len(query))
    ok = client.get(f"{BASE}/connectors/{MUTATIONS}?{query}")
    assert ok.status_code == 200  # 2049 characters counting the `?` is still allowed
    too_long = client.get(f"{BASE}/connectors/{MUTATIONS}?{query}x")
    assert too_long.status_code == 404


# -- authentication ------------------------------------------------------------------------------


def _bad_headers() -> list[dict[str, str]]:
    wrong = token_header("0" * 64)
    garbage = {"Authorization": "AfasToken !!!not-base64!!!"}
    no_xml = {"Authorization": "AfasToken " + base64.b64encode(TOKEN_DATA.encode()).decode()}
    bearer = {"Authorization": token_header()["Authorization"].replace("AfasToken", "Bearer")}
    return [{}, wrong, garbage, no_xml, bearer]


@pytest.mark.parametrize("headers", _bad_headers())
def test_bad_tokens_get_an_empty_401(environment: FakeEnvironment, headers: dict[str, str]) -> None:
    with TestClient(create_app(environment)) as bare:
        response = bare.get(f"{BASE}/connectors/{MUTATIONS}", headers=headers)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.headers["content-length"] == "0"


def test_token_data_is_case_insensitive(environment: FakeEnvironment) -> None:
    with TestClient(create_app(environment), headers=token_header(TOKEN_DATA.lower())) as c:
        assert c.get(f"{BASE}/ProfitVersion").status_code == 200


def test_plain_text_token_is_500(environment: FakeEnvironment) -> None:
    xml = f"<token><version>1</version><data>{TOKEN_DATA}</data></token>"
    with TestClient(create_app(environment)) as bare:
        response = bare.get(f"{BASE}/ProfitVersion", headers={"Authorization": f"AfasToken {xml}"})
    assert_afas_error(response, 500, "An unexpected error has occurred.")


def test_admin_endpoints_need_the_token(environment: FakeEnvironment) -> None:
    with TestClient(create_app(environment)) as bare:
        assert bare.get(f"{BASE}/_simulator/state").status_code == 401


# -- metainfo ------------------------------------------------------------------------------------


def test_metainfo_types_datetimes_as_afas_does_or_as_of_old() -> None:
    def data_types(environment: FakeEnvironment) -> dict[str, str]:
        with TestClient(create_app(environment), headers=token_header()) as afas:
            body = afas.get(f"{BASE}/metainfo/get/DWH_Debiteuren").json()
        return {
            f["id"]: f["dataType"]
            for f in body["fields"]
            if f["id"] in ("CreateDate", "Mutatie_datum")
        }

    afas = FakeEnvironment()
    old = FakeEnvironment(config=FakeConfig(datetime_data_type="datetime"))
    assert data_types(afas) == {"CreateDate": "date", "Mutatie_datum": "date"}
    assert data_types(old) == {"CreateDate": "datetime", "Mutatie_datum": "datetime"}


def test_metainfo_lists_connectors(client: TestClient) -> None:
    body = client.get(f"{BASE}/metainfo").json()
    assert body["updateConnectors"] == [{"id": "FiEntries", "description": "Financiële mutaties"}]
    assert [c["id"] for c in body["getConnectors"]] == list(CONNECTORS)
    assert body["info"]["envid"] == "O12345AA"
    assert body["info"]["appName"] == "AFAS pipeline simulator"
    assert body["info"]["tokenExpiry"] == "0"


@pytest.mark.parametrize("connector_id", list(CONNECTORS))
def test_metainfo_get_matches_the_contract(client: TestClient, connector_id: str) -> None:
    spec = CONNECTORS[connector_id]
    body = client.get(f"{BASE}/metainfo/get/{connector_id}").json()
    assert body["name"] == spec.id
    assert body["description"] == spec.description
    assert [f["id"] for f in body["fields"]] == list(spec.field_ids)
    for index, (got, want) in enumerate(zip(body["fields"], spec.fields, strict=True), 1):
        assert got == {
            "id": want.id,
            "fieldId": f"U{index:03d}",
            # AFAS has no datetime dataType: its datetimes are reported as dates.
            "dataType": "date" if want.data_type == "datetime" else want.data_type,
            "label": want.label,
            "length": want.length,
            "controlType": 5 if want.id in spec.key else 1,
            "decimals": want.decimals,
            "decimalsFieldId": "",
        }


def test_metainfo_update_fientries_tree(client: TestClient) -> None:
    body = client.get(f"{BASE}/metainfo/update/FiEntries").json()
    assert body["name"] == "FiEntryPar"
    header = {f["fieldId"]: f for f in body["fields"]}
    assert list(header) == ["Year", "Peri", "UnId", "JoCo", "AdDc", "AdDa", "PrTp", "AuNu"]
    assert header["JoCo"]["mandatory"] is True
    assert header["UnId"]["mandatory"] is False
    (lines,) = body["objects"]
    assert lines["name"] == "FiEntries"
    line = {f["fieldId"]: f for f in lines["fields"]}
    for name in ("VaAs", "AcNr", "EnDa", "BpDa"):
        assert line[name]["mandatory"] is True
    assert line["AmDe"]["dataType"] == "decimal"
    assert line["AmDe"]["decimals"] == 2
    assert [v["id"] for v in line["VaAs"]["values"]] == ["1", "2", "3"]
    assert set(line["Ds"]) == {
        "fieldId", "primaryKey", "dataType", "label", "mandatory", "length",
        "decimals", "decimalFieldId", "notzero", "controlType", "values",
    }  # fmt: skip
    response = client.get(f"{BASE}/metainfo/update/KnSubject")
    assert_afas_error(response, 500, "UpdateConnector is not supported")


# -- FiEntries -----------------------------------------------------------------------------------


def fi_entry(journal: str = "80") -> dict[str, Any]:
    line = {"VaAs": "1", "EnDa": "2025-11-20", "BpDa": "2025-11-20", "BpNr": "MEMO0001"}
    return {
        "FiEntryPar": {
            "Element": {
                "Fields": {"Year": "2025", "Peri": "11", "UnId": "1", "JoCo": journal},
                "Objects": [
                    {
                        "FiEntries": {
                            "Element": [
                                {"Fields": {**line, "AcNr": "0100", "AmDe": 0, "AmCr": 100}},
                                {"Fields": {**line, "AcNr": "0200", "AmDe": 100, "AmCr": 0}},
                            ]
                        }
                    }
                ],
            }
        }
    }


def test_post_fi_entry_is_201_with_string_keys(
    client: TestClient, environment: FakeEnvironment
) -> None:
    response = client.post(f"{BASE}/connectors/FiEntries", json=fi_entry())
    assert response.status_code == 201
    assert response.json() == {"results": {"FiEntryPar": {"UnId": "1", "EnNo": "5790", "InId": ""}}}
    assert environment.posted == [fi_entry()]


def test_rejected_fi_entry_is_afas_500(client: TestClient) -> None:
    response = client.post(f"{BASE}/connectors/FiEntries", json=fi_entry("99"))
    body = assert_afas_error(response, 500, "The entered value for 'Dagboek' does not exist.")
    assert body["errorNumber"] == -2147220469


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post(f"{BASE}/connectors/FiEntries", content=b"{not json")
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid json"}


def test_put_and_unknown_update_connectors(client: TestClient) -> None:
    response = client.put(f"{BASE}/connectors/FiEntries", json=fi_entry())
    assert_afas_error(response, 500, "not supported")
    response = client.post(f"{BASE}/connectors/KnSubject", json={})
    assert_afas_error(response, 500, "UpdateConnector is not supported")


@pytest.mark.parametrize("key", ["@EnNo", "EnNo"])
def test_delete_fi_entry(client: TestClient, environment: FakeEnvironment, key: str) -> None:
    response = client.delete(
        f"{BASE}/connectors/FiEntries/FiEntryPar/UnId,JoCo/1,80/FiEntries/{key}/70001"
    )
    assert response.status_code == 200
    assert response.content == b""
    assert environment.deleted == [(1, "80", 70001)]


def test_delete_rejections(client: TestClient) -> None:
    path = f"{BASE}/connectors/FiEntries/FiEntryPar/UnId,JoCo/1,80/FiEntries/@EnNo/404"
    assert_afas_error(client.delete(path), 500, "Journal entry 404 does not exist.")
    bad = f"{BASE}/connectors/FiEntries/FiEntryPar/UnId,JoCo/x,80/FiEntries/@EnNo/1"
    assert_afas_error(client.delete(bad), 500, "Type mismatch")
    unknown_key = f"{BASE}/connectors/FiEntries/FiEntryPar/UnId,JoCo/1,10/FiEntries/BpNr/X1"
    assert_afas_error(client.delete(unknown_key), 500, "FiEntries are deleted by")


def test_delete_fi_entries_by_invoice(client: TestClient, environment: FakeEnvironment) -> None:
    # The documented second form [fie-del]: the entries of an invoice, by its number.
    path = f"{BASE}/connectors/FiEntries/FiEntryPar/UnId,JoCo/1,10/FiEntries/InId/IH003938"
    assert client.delete(path).status_code == 200
    assert environment.deleted == [(1, "10", "IH003938")]


# -- admin endpoints -----------------------------------------------------------------------------


def test_state_and_clock(client: TestClient, environment: FakeEnvironment) -> None:
    state = client.get(f"{BASE}/_simulator/state").json()
    assert state["environment"]["now"] == "2025-11-20T12:00:00"
    assert state["faults"]["error_500_rate"] == 0
    assert client.post(f"{BASE}/_simulator/clock", json={"days": 1.5}).status_code == 200
    assert environment.now() == datetime(2025, 11, 22, 0, 0)
    response = client.post(f"{BASE}/_simulator/clock", json={"to": "2025-12-01T08:30:00"})
    assert response.status_code == 200
    assert environment.now() == datetime(2025, 12, 1, 8, 30)
    assert client.post(f"{BASE}/_simulator/clock", json={}).status_code == 400


def test_request_counter(client: TestClient) -> None:
    client.delete(f"{BASE}/_simulator/requests")
    client.get(f"{BASE}/connectors/{MUTATIONS}")
    client.get(f"{BASE}/connectors/{MUTATIONS}?skip=1&take=-1")
    client.get(f"{BASE}/metainfo")
    client.post(f"{BASE}/connectors/FiEntries", json=fi_entry())
    client.get(f"{BASE}/ProfitVersion", headers={"Authorization": ""})
    counts = client.get(f"{BASE}/_simulator/requests").json()
    assert counts["total"] == 5
    assert counts["by_kind"] == {
        f"GET connectors/{MUTATIONS}": 2,
        "GET metainfo": 1,
        "GET ProfitVersion": 1,
        "POST connectors/FiEntries": 1,
    }
    assert counts["by_status"] == {"200": 2, "201": 1, "401": 1, "500": 1}
    assert client.delete(f"{BASE}/_simulator/requests").json()["total"] == 0


def test_options_preflight(client: TestClient) -> None:
    response = client.options(f"{BASE}/connectors/{MUTATIONS}", headers={"Authorization": ""})
    assert response.status_code == 200
    assert "access-control-allow-headers" in response.headers


# -- the same protocol against the real Environment ----------------------------------------------

NOW = datetime(2025, 11, 20, 12, 0)


def real_environment() -> Environment:
    return Environment(SimulatorConfig(journal_lines=3000, now=NOW))


@pytest.fixture(scope="module")
def shared_real() -> Environment:
    """Read-only tests share one environment; tests that write build their own."""
    return real_environment()


def real_client(env: Environment) -> TestClient:
    return TestClient(create_app(env), headers=token_header(env.config.token_data))


@pytest.mark.parametrize("connector_id", list(CONNECTORS))
def test_real_connectors_page_back_to_the_whole_table(
    shared_real: Environment, connector_id: str
) -> None:
    spec = shared_real.served_spec(connector_id)
    order = ",".join(spec.key)
    with real_client(shared_real) as client:
        pages, skip = [], 0
        while True:
            page = rows_of(client, connector_id, skip=str(skip), take="700", orderbyfieldids=order)
            pages.extend(page)
            if len(page) < 700:
                break
            skip += 700
        text = client.get(f"{BASE}/connectors/{connector_id}?skip=-1&take=-1").text
    expected = shared_real.rows(connector_id)
    assert len(pages) == expected.height
    keys = [tuple(r[k] for k in spec.key) for r in pages]
    assert len(set(keys)) == len(keys)
    everything = json.loads(text, parse_float=Decimal)["rows"]
    assert [list(r) for r in everything[:1]] == [list(spec.field_ids)] * min(1, len(everything))
    for field_spec in spec.fields:
        served = [r[field_spec.id] for r in everything]
        assert served == [_as_served(v, field_spec.data_type) for v in expected[field_spec.id]]


def _as_served(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    if data_type == "datetime":
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if data_type == "date":
        return value.strftime("%Y-%m-%dT00:00:00Z")
    return value


def test_real_partition_filter_matches_polars(shared_real: Environment) -> None:
    frame = shared_real.rows(MUTATIONS)
    day = frame["Mutatie_datum"].max().date()
    with real_client(shared_real) as client:
        rows = rows_of(
            client,
            MUTATIONS,
            skip="-1",
            take="-1",
            filterfieldids="Mutatie_datum,Mutatie_datum",
            filtervalues=f"{day}T00:00:00,{day + timedelta(days=1)}T00:00:00",
            operatortypes="2,5",
            orderbyfieldids="UnitId,EntryNo,SeqNo",
        )
    start = datetime(day.year, day.month, day.day)
    expected = frame.filter(
        (pl.col("Mutatie_datum") >= start) & (pl.col("Mutatie_datum") < start + timedelta(days=1))
    )
    assert len(rows) == expected.height > 0


@pytest.mark.parametrize("has_it", [True, False], ids=["with", "without"])
def test_real_cost_carrier_field_in_metainfo_and_rows(has_it: bool) -> None:
    """The optional DimAx2 is served last, in metainfo and rows, or not at all; a filter on it
    works where the connector has it and is refused where it does not."""
    env = Environment(SimulatorConfig(journal_lines=1500, now=NOW, cost_carrier_field=has_it))
    contract = CONNECTORS[MUTATIONS]
    wanted = [*contract.field_ids, "DimAx2"] if has_it else list(contract.field_ids)
    with real_client(env) as client:
        fields = client.get(f"{BASE}/metainfo/get/{MUTATIONS}").json()["fields"]
        assert [f["id"] for f in fields] == wanted
        if has_it:
            assert {k: fields[-1][k] for k in ("dataType", "label", "length")} == {
                "dataType": "string",
                "label": "Kostendrager",
                "length": 16,
            }
        assert list(rows_of(client, MUTATIONS, take="1")[0]) == wanted
        params = {"filterfieldids": "DimAx2", "filtervalues": "P100", "operatortypes": "1"}
        everything = {**params, "skip": "-1", "take": "-1"}
        response = client.get(f"{BASE}/connectors/{MUTATIONS}", params=everything)
    if has_it:
        carried = env.rows(MUTATIONS).filter(pl.col("DimAx2") == "P100").height
        assert len(response.json()["rows"]) == carried > 0
    else:
        assert_afas_error(response, 500, "Connector field 'DimAx2' not found")


def test_real_token_and_metainfo(shared_real: Environment) -> None:
    with real_client(shared_real) as client:
        info = client.get(f"{BASE}/metainfo").json()["info"]
        assert info["envid"] == shared_real.config.environment_id
    with TestClient(create_app(shared_real), headers=token_header("A" * 64)) as wrong:
        assert wrong.get(f"{BASE}/metainfo").status_code == 401


def memorial_entry(amount: str, voucher: str) -> dict[str, Any]:
    line = {"VaAs": "1", "EnDa": "2025-11-20", "BpDa": "2025-11-20", "BpNr": voucher}
    lines = [
        {"Fields": {**line, "AcNr": "4000", "AmDe": amount, "AmCr": "0", "Ds": "Herboeking"}},
        {"Fields": {**line, "AcNr": "4100", "AmDe": "0", "AmCr": amount, "Ds": "Herboeking"}},
    ]
    fields = {"Year": 2025, "Peri": 11, "UnId": 1, "JoCo": "80"}
    return {
        "FiEntryPar": {"Element": {"Fields": fields, "Objects": {"FiEntries": {"Element": lines}}}}
    }


def test_real_post_and_delete_fi_entry() -> None:
    env = real_environment()
    accounts = env.rows("Profit_Accounts").filter(~pl.col("Blocked") & ~pl.col("CollectAccount"))
    entry = memorial_entry("12.34", "SIM-TEST-1")
    for element, account in zip(
        entry["FiEntryPar"]["Element"]["Objects"]["FiEntries"]["Element"],
        accounts.filter(pl.col("Type") == "W")["Account"][:2],
        strict=True,
    ):
        element["Fields"]["AcNr"] = account
    with real_client(env) as client:
        response = client.post(f"{BASE}/connectors/FiEntries", json=entry)
        assert response.status_code == 201, response.text
        result = response.json()["results"]["FiEntryPar"]
        assert result["UnId"] == "1"
        assert all(isinstance(v, str) for v in result.values())
        booked = rows_of(
            client,
            MUTATIONS,
            filterfieldids="VoucherNo",
            filtervalues="SIM-TEST-1",
            operatortypes="1",
        )
        assert [r["EntryNo"] for r in booked] == [int(result["EnNo"])] * 2
        assert sorted(r["AmtDebit"] for r in booked) == [0, 12.34]
        path = f"FiEntryPar/UnId,JoCo/1,80/FiEntries/@EnNo/{result['EnNo']}"
        assert client.delete(f"{BASE}/connectors/FiEntries/{path}").status_code == 200
        assert (
            rows_of(
                client,
                MUTATIONS,
                filterfieldids="VoucherNo",
                filtervalues="SIM-TEST-1",
                operatortypes="1",
            )
            == []
        )
        unbalanced = memorial_entry("1.00", "SIM-TEST-2")
        unbalanced["FiEntryPar"]["Element"]["Objects"]["FiEntries"]["Element"].pop()
        assert_afas_error(client.post(f"{BASE}/connectors/FiEntries", json=unbalanced), 500, "")
        again = client.delete(f"{BASE}/connectors/FiEntries/{path}")
        assert_afas_error(again, 500, result["EnNo"])


def test_real_write_rules_over_http() -> None:
    # NOW is 2025-11-20: the holding (1) has closed 2024, so a line dated then is refused
    # under the open header of November 2025; VAT on an account without VAT is refused.
    env = real_environment()
    blocked = memorial_entry("5.00", "SIM-TEST-3")
    lines = blocked["FiEntryPar"]["Element"]["Objects"]["FiEntries"]["Element"]
    lines[0]["Fields"]["BpDa"] = "2024-12-31"
    no_vat = memorial_entry("5.00", "SIM-TEST-4")
    no_vat["FiEntryPar"]["Element"]["Objects"]["FiEntries"]["Element"][0]["Fields"]["VaId"] = "5"
    sale = {
        "Fields": {"Year": 2025, "Peri": 11, "UnId": 1, "JoCo": "20", "AuNu": "1"},
        "Objects": [
            {
                "FiEntries": {
                    "Element": [
                        {"Fields": {**f, "EnDa": "2025-11-20", "BpDa": "2025-11-20"}}
                        for f in (
                            {"VaAs": "2", "AcNr": "10001", "AmDe": "121.00", "AmCr": "0"},
                            {
                                "VaAs": "1",
                                "AcNr": "8000",
                                "AmDe": "0",
                                "AmCr": "100.00",
                                "VaId": "1",
                            },
                            {
                                "VaAs": "1",
                                "AcNr": "1510",
                                "AmDe": "0",
                                "AmCr": "21.00",
                                "VaId": "1",
                            },
                        )
                    ]
                }
            }
        ],
    }
    url = f"{BASE}/connectors/FiEntries"
    with real_client(env) as client:
        response = client.post(url, json=blocked)
        assert_afas_error(response, 500, "Date '31-12-2024' belongs to a blocked period.")
        response = client.post(url, json=no_vat)
        assert_afas_error(response, 500, "(AFASFiEntry) VAT is not allowed for account 4000.")
        posted = client.post(url, json={"FiEntryPar": {"Element": sale}})
        assert posted.status_code == 201, posted.text
        invoice = posted.json()["results"]["FiEntryPar"]["InId"]
        assert invoice.startswith("F2025-")
        path = f"FiEntryPar/UnId,JoCo/1,20/FiEntries/InId/{invoice}"
        assert client.delete(f"{url}/{path}").status_code == 200
        assert_afas_error(client.delete(f"{url}/{path}"), 500, f"Invoice {invoice} does not")
        params = {"filterfieldids": "UnitId,InvoiceId", "operatortypes": "1,1"}
        assert rows_of(client, MUTATIONS, **params, filtervalues=f"1,{invoice}") == []


def test_real_clock_moves_forward() -> None:
    env = real_environment()
    with real_client(env) as client:
        before = client.get(f"{BASE}/_simulator/state").json()["environment"]
        assert client.post(f"{BASE}/_simulator/clock", json={"days": 2}).status_code == 200
        after = client.get(f"{BASE}/_simulator/state").json()["environment"]
    assert after["now"] == "2025-11-22T12:00:00"
    assert after["connectors"][MUTATIONS] > before["connectors"][MUTATIONS]
