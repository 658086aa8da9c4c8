"""Turn one page of GetConnector rows into a typed, strictly checked polars frame.

Speed matters (a full extract is millions of rows), so the work is columnar: each column is pulled
out of the rows once, its Python types are checked with one `set(map(type, ...))`, and the parsing
of dates, datetimes and decimals is left to polars. Exactness matters more: amounts go from the
exact `Decimal` of the JSON text to `Decimal(18, scale)` through their string form, never a float.

AFAS has no datetime dataType: metainfo calls a datetime field "date" (afas-api.md §4). A "date"
field is parsed as what it means when the caller knows (`FieldMeta.meaning`, from the connector
contract), else its values decide: a page whose values all fall on midnight keeps a Date, a page
where one carries a time gets a Datetime, never truncated and never rejected.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import polars as pl

from afas_pipeline.afas.errors import AfasSchemaError
from afas_pipeline.afas.metainfo import DECIMAL_PRECISION, FieldMeta, GetConnectorMeta

_NONE = type(None)
_ALLOWED: dict[str, frozenset[type]] = {
    "int": frozenset({int, _NONE}),
    "string": frozenset({str, _NONE}),
    "blob": frozenset({str, _NONE}),
    "boolean": frozenset({bool, _NONE}),
    "decimal": frozenset({int, decimal.Decimal, _NONE}),
    "date": frozenset({str, _NONE}),
    "datetime": frozenset({str, _NONE}),
}
_EXPECTED: dict[str, str] = {
    "int": "a JSON integer",
    "string": "a JSON string",
    "blob": "a JSON string",
    "boolean": "a JSON boolean",
    "decimal": "a JSON number",
    "date": "a date string like 2020-11-22T00:00:00Z",
    "datetime": "a datetime string like 2025-03-30T02:15:00Z",
}
# Dates come as "2020-11-22T00:00:00Z"; a plain "2020-11-22" is accepted too.
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(T00:00:00(\.0+)?Z?)?$"
# The Z is meaningless: the value is Amsterdam wall-clock time (afas-api.md §3.5).
_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z?$"


class _Context:
    """Where a page came from, to make schema errors point at the exact row."""

    def __init__(self, connector_id: str, skip: int) -> None:
        self.connector_id = connector_id
        self.skip = skip

    def error(self, index: int, field: str, value: object, problem: str) -> AfasSchemaError:
        row = self.skip + index
        return AfasSchemaError(
            f"row {row} of connector {self.connector_id}: field {field!r} {problem} "
            f"(value {_show(value)})",
            connector_id=self.connector_id,
            row=row,
            field=field,
            value=value,
        )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def rows_to_frame(
    rows: Sequence[dict[str, Any]],
    meta: GetConnectorMeta,
    *,
    connector_id: str,
    skip: int = 0,
) -> pl.DataFrame:
    """Convert one page of JSON rows into a frame with exactly `meta`'s columns and types.

    Rows must be parsed with `json.loads(text, parse_float=decimal.Decimal)`. Any deviation
    from metainfo (unknown or missing field, wrong JSON type, bad date, too many decimals)
    raises AfasSchemaError naming the connector, the row number (skip + index) and the field.
    The one column whose type can differ from `meta.polars_schema()` is a "date" field whose
    values decide and carry a time: a Datetime.
    """
    schema = meta.polars_schema()
    if not rows:
        return pl.DataFrame(schema=schema)
    ctx = _Context(connector_id, skip)
    columns = _columns(rows, meta.field_ids, ctx)
    series = [_convert(f, col, ctx) for f, col in zip(meta.fields, columns, strict=True)]
    return pl.DataFrame(series)


def _columns(
    rows: Sequence[dict[str, Any]], ids: tuple[str, ...], ctx: _Context
) -> list[Sequence[Any]]:
    """The values per field; rows with a different set of keys raise AfasSchemaError."""
    if set(map(type, rows)) != {dict}:
        index = next(i for i, r in enumerate(rows) if type(r) is not dict)
        raise ctx.error(index, "<row>", rows[index], "is not a JSON object")
    # Equal lengths plus every expected key present means exactly the expected keys.
    if set(map(len, rows)) != {len(ids)}:
        _raise_key_mismatch(rows, ids, ctx)
    if len(ids) == 1:
        key = ids[0]
        try:
            return [[r[key] for r in rows]]
        except KeyError:
            _raise_key_mismatch(rows, ids, ctx)
    try:
        return list(zip(*map(itemgetter(*ids), rows), strict=True))
    except KeyError:
        _raise_key_mismatch(rows, ids, ctx)
    raise AssertionError("unreachable")  # pragma: no cover


def _raise_key_mismatch(
    rows: Sequence[dict[str, Any]], ids: tuple[str, ...], ctx: _Context
) -> None:
    expected = set(ids)
    for index, row in enumerate(rows):
        keys = set(row)
        if keys == expected:
            continue
        extra = sorted(keys - expected)
        if extra:
            raise ctx.error(index, extra[0], row[extra[0]], "is not in the connector's metainfo")
        missing = sorted(expected - keys)
        raise ctx.error(index, missing[0], None, "is missing from the row")


def _convert(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> pl.Series:
    kind = field.value_type
    allowed = _ALLOWED.get(kind)
    if allowed is None:
        field.polars_type(ctx.connector_id)  # raises AfasSchemaError for the unknown type
        raise AssertionError("unreachable")  # pragma: no cover
    # polars' strict constructors reject wrong types themselves, except that they take a bool
    # as an int and anything as a decimal string: check those two in Python.
    if kind in ("int", "decimal") and not set(map(type, values)) <= allowed:
        _raise_wrong_type(field, values, ctx)
    convert = _date_or_datetime if field.values_decide else _CONVERTERS[kind]
    try:
        return convert(field, values, ctx)
    except (TypeError, OverflowError, pl.exceptions.PolarsError):
        _raise_wrong_type(field, values, ctx)
        # The types are right, so a number is out of range.
        _raise_too_big(field, values, ctx, 2**63, "64 bits")
        raise


def _raise_wrong_type(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> None:
    kind = field.value_type
    allowed = _ALLOWED[kind]
    for index, value in enumerate(values):
        if type(value) not in allowed:
            raise ctx.error(index, field.id, value, f"is not {_EXPECTED[kind]}")


def _plain(dtype: Any) -> Callable[[FieldMeta, Sequence[Any], _Context], pl.Series]:
    def convert(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> pl.Series:
        return pl.Series(field.id, values, dtype=dtype, strict=True)

    return convert


def _raise_too_big(
    field: FieldMeta, values: Sequence[Any], ctx: _Context, limit: int, what: str
) -> None:
    for index, value in enumerate(values):
        if type(value) in (int, decimal.Decimal) and abs(value) >= limit:
            raise ctx.error(index, field.id, value, f"does not fit in {what}")


def _decimal(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> pl.Series:
    scale = field.scale
    # str(None) is "None", which no number prints as: use it as the null marker.
    text = pl.Series(field.id, list(map(str, values)), dtype=pl.String)
    text = pl.select(pl.when(text != "None").then(text).alias(field.id)).to_series()
    # At most `scale` significant decimals; trailing zeros ("1.500") are harmless.
    fits = text.str.contains(rf"^-?\d+(\.\d{{0,{scale}}}0*)?$")
    if not fits.fill_null(True).all():
        text = _fix_unusual_decimals(field, values, text, fits, ctx)
    parsed = text.str.to_decimal(scale=scale)
    try:
        return parsed.cast(pl.Decimal(DECIMAL_PRECISION, scale), strict=True)
    except pl.exceptions.PolarsError:
        limit = 10 ** (DECIMAL_PRECISION - scale)
        _raise_too_big(field, values, ctx, limit, f"Decimal({DECIMAL_PRECISION}, {scale})")
        raise


def _fix_unusual_decimals(
    field: FieldMeta, values: Sequence[Any], text: pl.Series, fits: pl.Series, ctx: _Context
) -> pl.Series:
    """Check values the fast pattern missed (e.g. `1E+2`) one by one; rare, so slow is fine."""
    quantum = decimal.Decimal(1).scaleb(-field.scale)
    fixed = text.to_list()
    for index in (~fits.fill_null(True)).arg_true().to_list():
        value = decimal.Decimal(values[index])
        if not value.is_finite() or value != value.quantize(quantum, rounding=decimal.ROUND_DOWN):
            raise ctx.error(index, field.id, values[index], f"has more than {field.scale} decimals")
        fixed[index] = format(value, "f")
    return pl.Series(field.id, fixed, dtype=pl.String)


def _temporal(
    pattern: str, parse: Callable[[pl.Series], pl.Series], what: str
) -> Callable[[FieldMeta, Sequence[Any], _Context], pl.Series]:
    def convert(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> pl.Series:
        text = pl.Series(field.id, values, dtype=pl.String, strict=True)
        parsed = parse(text)
        # Bad: a non-null input whose shape is wrong or that polars could not parse
        # (e.g. month 13), so no value silently becomes null.
        bad = text.is_not_null() & (~text.str.contains(pattern) | parsed.is_null())
        if bad.any():
            index = bad.arg_true()[0]
            raise ctx.error(index, field.id, values[index], f"is not a valid {what}")
        return parsed.alias(field.id)

    return convert


def _parse_date(text: pl.Series) -> pl.Series:
    return text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _parse_datetime(text: pl.Series) -> pl.Series:
    return (
        text.str.strip_suffix("Z")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
        .dt.replace_time_zone(None)
    )


_to_date = _temporal(_DATE_PATTERN, _parse_date, "date")
_to_datetime = _temporal(_DATETIME_PATTERN, _parse_datetime, "datetime")


def _date_or_datetime(field: FieldMeta, values: Sequence[Any], ctx: _Context) -> pl.Series:
    """A "date" field nobody described: a Date if every value is one, else a Datetime."""
    text = pl.Series(field.id, values, dtype=pl.String, strict=True)
    if text.str.contains(_DATE_PATTERN).fill_null(True).all():
        return _to_date(field, values, ctx)
    return _to_datetime(field, values, ctx)


_CONVERTERS: dict[str, Callable[[FieldMeta, Sequence[Any], _Context], pl.Series]] = {
    "int": _plain(pl.Int64),
    "string": _plain(pl.String),
    "blob": _plain(pl.String),
    "boolean": _plain(pl.Boolean),
    "decimal": _decimal,
    "date": _to_date,
    "datetime": _to_datetime,
}
