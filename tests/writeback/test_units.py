"""Payloads, content hashes, the pre-check and the target guard, without a server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from afas_pipeline.simulator import SIMULATOR_MARK, chart
from afas_pipeline.writeback.corrections import group_corrections, read_corrections
from afas_pipeline.writeback.payloads import build_payload, line_fields
from afas_pipeline.writeback.safety import (
    WriteGuardTransport,
    WritesNotAllowedError,
    is_loopback_url,
    require_writes_allowed,
    says_simulator,
)
from afas_pipeline.writeback.validation import ReferenceData, validate
from tests.writeback.conftest import correction_rows, write_corrections


def _reference() -> ReferenceData:
    ref = ReferenceData()
    ref.accounts = {
        a.number: {"Blocked": a.blocked, "CollectAccount": a.collect} for a in chart.CHART
    }
    ref.journals = {(1, j.id): {"Blocked": j.blocked} for j in chart.JOURNAL_TABLE}
    ref.periods = {
        (1, 2026, m): {
            "Blocked": m < 3,
            "DateFrom": date(2026, m, 1),
            "DateTo": date(2026, m, 28),
        }
        for m in range(1, 13)
    }
    ref.vat_codes = {v.code: {"Blocked": v.blocked} for v in chart.VAT_TABLE}
    ref.parties = {"2": {"10001": {}}, "3": {"60001": {}}}
    return ref


def _one(rows: list[dict]) -> object:
    (correction,) = group_corrections(rows)
    return correction


def test_payload_is_one_memorial_entry_with_the_id_as_voucher_number() -> None:
    correction = _one(correction_rows("SC-0001", amount="12.30"))
    payload = build_payload(correction)  # type: ignore[arg-type]
    header = payload["FiEntryPar"]["Element"]["Fields"]
    assert header == {"Year": 2026, "Peri": 11, "UnId": 1, "JoCo": "80"}
    lines = line_fields(payload)
    assert [ln["BpNr"] for ln in lines] == ["SC-0001", "SC-0001"]
    assert [(ln["VaAs"], ln["AcNr"], ln["AmDe"], ln["AmCr"]) for ln in lines] == [
        ("1", "2999", "12.30", "0.00"),
        ("2", "10001", "0.00", "12.30"),
    ]
    assert all("EnNo" not in ln for ln in lines)  # AFAS assigns it; sending it is an error


def test_a_missing_journal_defaults_to_the_memorial_journal() -> None:
    (correction,) = group_corrections(correction_rows("X", journal_id=None), default_journal="80")
    assert correction.journal_id == "80"


def test_the_content_hash_changes_with_any_amount_or_account() -> None:
    base = _one(correction_rows("A")).content_hash  # type: ignore[attr-defined]
    assert _one(correction_rows("A")).content_hash == base  # type: ignore[attr-defined]
    assert _one(correction_rows("A", amount="100.01")).content_hash != base  # type: ignore[attr-defined]
    other = _one(correction_rows("A", credit_account=("2", "10002")))
    assert other.content_hash != base  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (correction_rows("U", credit_amount="99.99"), "not balanced"),
        (correction_rows("C", credit_account=("1", "1300")), "collect account"),
        (correction_rows("D", credit_account=("2", "99999")), "debtor 99999 does not exist"),
        (correction_rows("K", credit_account=("3", "12345")), "creditor 12345 does not exist"),
        (correction_rows("G", debit_account=("1", "4999")), "GL account 4999 is blocked"),
        (correction_rows("N", debit_account=("1", "0001")), "GL account 0001 does not exist"),
        (correction_rows("J", journal_id="90"), "journal 90 is blocked"),
        (correction_rows("Q", journal_id="77"), "journal 77 does not exist"),
        (correction_rows("P", day=date(2026, 2, 10)), "period 2 of 2026 is blocked"),
        (correction_rows("Y", day=date(2030, 2, 10)), "does not exist"),
        (correction_rows("Z" * 33), "BpNr holds 32"),
        (correction_rows("Dc", amount="0.00"), "no amount"),
    ],
)
def test_the_precheck_refuses_what_afas_would(rows: list[dict], expected: str) -> None:
    correction = _one(rows)
    problems = validate(correction, build_payload(correction), _reference())  # type: ignore[arg-type]
    assert any(expected in p for p in problems), problems


def test_a_valid_correction_passes_the_precheck() -> None:
    correction = _one(correction_rows("OK"))
    assert validate(correction, build_payload(correction), _reference()) == []  # type: ignore[arg-type]


def test_a_mandatory_field_from_metainfo_is_checked() -> None:
    ref = _reference()
    ref.mandatory_line = (*ref.mandatory_line, "Judg")
    correction = _one(correction_rows("M"))
    problems = validate(correction, build_payload(correction), ref)  # type: ignore[arg-type]
    assert "line 1: mandatory field Judg is empty" in problems


def test_lines_that_disagree_on_the_header_are_refused() -> None:
    rows = correction_rows("H")
    rows[1]["period"] = 10
    correction = _one(rows)
    problems = validate(correction, build_payload(correction), _reference())  # type: ignore[arg-type]
    assert any("lines disagree on period" in p for p in problems)


def test_corrections_are_read_from_the_analysts_database(tmp_path: Path) -> None:
    write_corrections(tmp_path, correction_rows("B") + correction_rows("A", amount="1.10"))
    corrections = read_corrections(tmp_path)
    assert [c.correction_id for c in corrections] == ["A", "B"]
    assert corrections[0].total_debit == Decimal("1.10")
    assert [ln.line_no for ln in corrections[0].lines] == [1, 2]


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:5000/ProfitRestServices", True),
        ("http://localhost:8000/ProfitRestServices", True),
        ("http://[::1]:8000/ProfitRestServices", True),
        ("https://12345.rest.afas.online/ProfitRestServices", False),
        ("http://afas.invalid/ProfitRestServices", False),
        ("http://10.0.0.5/ProfitRestServices", False),
    ],
)
def test_loopback_alone_is_not_the_simulator(url: str, loopback: bool) -> None:
    """A sidecar, an egress proxy or a tunnel to real AFAS listens on loopback too: only the
    simulator saying so (on loopback) counts, and the opt-in opens anything else."""
    assert is_loopback_url(url) is loopback
    with pytest.raises(WritesNotAllowedError, match="loopback address is not enough"):
        require_writes_allowed(url, simulator=False, environ={})
    require_writes_allowed(url, simulator=True, environ={})
    require_writes_allowed(url, simulator=False, environ={"AFAS_ALLOW_WRITES": "true"})
    assert says_simulator({"version": "1", "simulator": SIMULATOR_MARK})
    assert not says_simulator({"version": "22.22.5"})


def _afas(says: dict[str, str], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers ProfitVersion with `says` and anything else with {}; records every request."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/ProfitVersion"):
            return httpx.Response(200, json=says)
        return httpx.Response(200, json={})

    return httpx.MockTransport(handler)


def test_the_transport_refuses_writes_to_anything_but_the_simulator_without_the_opt_in() -> None:
    seen: list[httpx.Request] = []
    simulator = {"version": "22.22.5", "simulator": SIMULATOR_MARK}
    guard = WriteGuardTransport(_afas(simulator, seen), allow_writes=False)
    auth = {"Authorization": "AfasToken x"}
    with httpx.Client(transport=guard, headers=auth) as http:
        http.get("https://12345.rest.afas.online/ProfitRestServices/ProfitVersion")
        for method in ("POST", "PUT", "DELETE"):
            with pytest.raises(WritesNotAllowedError, match="AFAS_ALLOW_WRITES=true"):
                http.request(method, "https://12345.rest.afas.online/ProfitRestServices/x")
        http.post("http://127.0.0.1:1/ProfitRestServices/connectors/FiEntries", json={})
        http.post("http://127.0.0.1:1/ProfitRestServices/connectors/FiEntries", json={})
    # A GET, then for the loopback target one probe (with the token) and the two POSTs.
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in seen] == [
        ("GET", "ProfitVersion"),
        ("GET", "ProfitVersion"),
        ("POST", "FiEntries"),
        ("POST", "FiEntries"),
    ]
    assert seen[1].headers["Authorization"] == "AfasToken x"

    seen.clear()  # a loopback proxy in front of real AFAS: AFAS does not say it is a simulator
    proxy = WriteGuardTransport(_afas({"version": "22.22.5"}, seen), allow_writes=False)
    with httpx.Client(transport=proxy) as http, pytest.raises(WritesNotAllowedError):
        http.post("http://127.0.0.1:8443/ProfitRestServices/connectors/FiEntries", json={})
    assert [r.method for r in seen] == ["GET"]  # the probe only


def test_a_correction_without_a_period_is_refused() -> None:
    rows = correction_rows("NP")
    for row in rows:
        row["fiscal_year"] = row["period"] = None
    correction = _one(rows)
    problems = validate(correction, build_payload(correction), _reference())  # type: ignore[arg-type]
    assert any("falls in no booking period" in p for p in problems)
