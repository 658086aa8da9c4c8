"""Hostile input: AFAS answering with pages the pipeline cannot trust. Each gets a clear error
naming what is wrong and where (connector, page, row or key, field), and a data directory
loaded before stays byte-identical."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from afas_pipeline.afas import AfasError, AfasSettings
from afas_pipeline.extract.loader import ExtractError
from afas_pipeline.extract.specs import spec_by_name
from afas_pipeline.extract.storage import RawStore
from afas_pipeline.simulator.faults import FaultConfig
from afas_pipeline.simulator.hostile import BAD_DATE, EXTRA_FIELD, MODES, THREE_DECIMALS
from tests.conftest import NOW, Simulator
from tests.extract.support import file_contents, load_range
from tests.reliability.conftest import fingerprint, set_faults

LINES = spec_by_name("DWH_Financiele_mutaties")
FIRST, LAST = date(2026, 10, 1), NOW.date()
CONNECTOR = LINES.name

# What the error must say for each mode: the connector plus the row/field or the defect.
EXPECTED: dict[str, list[str]] = {
    "extra_field": [CONNECTOR, EXTRA_FIELD, "row", "not in the connector's metainfo"],
    "missing_field": [CONNECTOR, "row", "missing from the row"],
    "changed_type": [CONNECTOR, "row", "twaalf", "is not"],
    "bad_date": [CONNECTOR, "row", BAD_DATE, "not a valid"],
    "three_decimals": [CONNECTOR, "row", THREE_DECIMALS, "more than 2 decimals"],
    "null_key": [CONNECTOR, "row 0 of page 1", "has no UnitId, a key field", "UnitId=None"],
    "repeated_key": [CONNECTOR, "2 times with different content", "in page 1 ("],
    "huge_page": [CONNECTOR, "rows for take=", "paging would skip rows"],
    "invalid_json": [CONNECTOR, "not valid JSON"],
    "empty_body": [CONNECTOR, "empty body", "HTTP 200"],
}
INPUTS_TRIED = len(EXPECTED) + 1  # the modes, plus a token of the wrong shape


def test_every_mode_is_tried() -> None:
    assert set(EXPECTED) == set(MODES)
    with pytest.raises(ValueError, match="unknown hostile mode"):
        FaultConfig(hostile="sneaky")


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_a_hostile_page_fails_clearly_and_changes_nothing(
    mode: str, start_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    simulator = start_simulator(journal_lines=1_500)
    store = RawStore(tmp_path / "data")
    load_range(simulator, store, LINES, FIRST, LAST, "before")
    before, contents = fingerprint(store.raw_dir), file_contents(store.raw_dir)
    assert before

    set_faults(simulator, hostile=mode, only_paths=[f"/connectors/{CONNECTOR}"])
    with pytest.raises(ExtractError) as caught:
        load_range(simulator, store, LINES, FIRST, LAST, "hostile")

    message = str(caught.value)
    for part in EXPECTED[mode]:
        assert part in message, (mode, message)
    assert simulator.token not in message
    assert fingerprint(store.raw_dir) == before  # nothing loaded was lost or changed
    set_faults(simulator)  # and once AFAS is sane again, the range loads as before
    load_range(simulator, store, LINES, FIRST, LAST, "after")
    assert file_contents(store.raw_dir) == contents


@pytest.mark.parametrize(
    "token", ["abc", "0" * 63, "<token><version>1</version><data>xyz</data></token>", " "]
)
def test_a_token_of_the_wrong_shape_is_refused_before_any_request(token: str) -> None:
    with pytest.raises(AfasError) as caught:
        AfasSettings.create(token=token, base_url="http://127.0.0.1:9/ProfitRestServices")
    message = str(caught.value)
    assert "token" in message.lower()
    assert token.strip() == "" or token not in message  # never echoed: it may be a real one
