"""The connector contract checks AFAS's live metainfo: a lost or retyped field is refused by
name, an optional field may be missing, and AFAS's "date" for a datetime is no mismatch."""

from __future__ import annotations

import pytest

from afas_pipeline.afas import AfasSchemaError
from afas_pipeline.contract import CONNECTORS, FINANCIAL_MUTATIONS

LINES = FINANCIAL_MUTATIONS


def _metainfo(**changes: str | None) -> dict[str, str]:
    """The data types AFAS's metainfo gives the contract's fields ("date" for datetimes), with
    `changes` (None removes a field)."""
    types = {f.id: "date" if f.data_type == "datetime" else f.data_type for f in LINES.all_fields}
    for name, value in changes.items():
        if value is None:
            types.pop(name)
        else:
            types[name] = value
    return types


def test_afas_metainfo_matches_the_contract_with_or_without_the_optional_field() -> None:
    LINES.check_metainfo(_metainfo(), "DWH_Financiele_mutaties")
    LINES.check_metainfo(_metainfo(DimAx2=None), "DWH_Financiele_mutaties")
    # The simulator's old answer, "datetime", and long text as a "blob" mean the same.
    LINES.check_metainfo(_metainfo(Created="datetime", Description="blob"), "X")
    assert [f.id for f in LINES.optional_fields] == ["DimAx2"]
    assert "DimAx2" not in LINES.field_ids  # what every environment has
    assert LINES.field("DimAx2").optional


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"VatAmt": None}, "field 'VatAmt' (decimal) is missing"),
        ({"AmtDebit": "string"}, "field 'AmtDebit' is 'string', the contract says decimal"),
        ({"EntryDate": "datetime"}, "field 'EntryDate' is 'datetime', the contract says date"),
        ({"UnitId": "decimal", "Mutatie_datum": None}, "field 'UnitId' is 'decimal'"),
    ],
)
def test_a_lost_or_retyped_field_is_refused_by_name(changes: dict, named: str) -> None:
    with pytest.raises(AfasSchemaError) as caught:
        LINES.check_metainfo(_metainfo(**changes), "DWH_Fin_custom")
    message = str(caught.value)
    assert named in message
    assert "connector DWH_Fin_custom" in message
    assert "nothing was read" in message
    assert caught.value.field == next(iter(changes))
    for name in changes:  # every problem in one message
        assert repr(name) in message


def test_every_connector_of_the_contract_accepts_its_own_metainfo() -> None:
    for spec in CONNECTORS.values():
        types = {f.id: "date" if f.data_type == "datetime" else f.data_type for f in spec.fields}
        spec.check_metainfo(types, spec.id)
