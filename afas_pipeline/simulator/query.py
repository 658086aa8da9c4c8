"""GetConnector query evaluation and page rendering, as AFAS Profit does it.

Evaluates `skip`/`take`, `orderbyfieldids`, the three filter lists and `filterjson`
(afas-api.md §3.2-3.4) against a typed polars frame with vectorised expressions, and renders a
page as the App Connector's one-line JSON. Every protocol error is an `AfasError`, which the HTTP
layer turns into AFAS's 500 body.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from afas_pipeline.contract import ConnectorSpec, FieldSpec

UNEXPECTED_MESSAGE = "An unexpected error has occurred."
# errorNumbers seen in the wild (afas-api.md §6); clients must not interpret them.
ERROR_UNEXPECTED = -2147180999
ERROR_VALIDATION = -2147220469
ERROR_NOT_SUPPORTED = -2147180996

DEFAULT_TAKE = 100

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?))?$")
_EMPTY_MARKERS = ("", '""', "[is leeg]", "null")
_TEXT_OPERATORS = {6, 10, 11, 12, 13, 14}


class AfasError(Exception):
    """An error AFAS reports as HTTP 500 with `externalMessage`/`errorNumber`."""

    def __init__(self, message: str, error_number: int = ERROR_UNEXPECTED) -> None:
        super().__init__(message)
        self.message = message
        self.error_number = error_number

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.error_number)


def error_body(message: str, error_number: int = ERROR_UNEXPECTED) -> dict[str, Any]:
    """AFAS's 5xx body: no `type` field, a 32-character upper-case hex log reference."""
    return {
        "externalMessage": message,
        "errorNumber": error_number,
        "profitLogReference": uuid.uuid4().hex.upper(),
    }


@dataclass(frozen=True)
class Page:
    """One answer of a GetConnector: the echoed skip/take and the selected rows."""

    skip: int
    take: int
    rows: pl.DataFrame

    def to_json(self) -> bytes:
        return render_page(self.skip, self.take, self.rows)


def run_query(frame: pl.DataFrame, spec: ConnectorSpec, params: Mapping[str, str]) -> Page:
    """Filter, order and page `frame` as AFAS would for these query parameters."""
    skip, take = parse_paging(params)
    sort = order_by(spec, params.get("orderbyfieldids", ""))
    condition = filter_expression(spec, params)
    if condition is not None:
        frame = frame.filter(condition)
    if sort is not None:
        frame = sort(frame)
    return Page(skip, take, _slice(frame, skip, take))


# -- skip / take ---------------------------------------------------------------------------------


def _paging_number(raw: str) -> int:
    # [php] (tested against AFAS): a non-numeric value or one below -1 acts as 0.
    try:
        number = int(raw.strip())
    except ValueError:
        return 0
    return number if number >= -1 else 0


def parse_paging(params: Mapping[str, str]) -> tuple[int, int]:
    """Return (skip, take); `take=-1` is only allowed together with `skip=-1` ([trouble])."""
    skip = _paging_number(params["skip"]) if "skip" in params else 0
    take = _paging_number(params["take"]) if "take" in params else DEFAULT_TAKE
    if take == -1 and skip != -1:
        raise AfasError(UNEXPECTED_MESSAGE, ERROR_UNEXPECTED)
    return skip, take


def _slice(frame: pl.DataFrame, skip: int, take: int) -> pl.DataFrame:
    if skip == -1:  # [php]: with skip=-1 take is not validated and everything comes back
        return frame
    # [php] observed that take=0 returns one row; we keep that quirk.
    return frame.slice(skip, max(take, 1))


# -- ordering ------------------------------------------------------------------------------------


def order_by(spec: ConnectorSpec, raw: str) -> Callable[[pl.DataFrame], pl.DataFrame] | None:
    """A sort for `orderbyfieldids` (`-` = descending), or None to keep the stored order."""
    if not raw.strip():
        return None
    keys: list[pl.Expr] = []
    descending: list[bool] = []
    for part in raw.split(","):
        part = part.strip()
        desc = part.startswith("-")
        field = _field(spec, part[1:] if desc else part)
        column = pl.col(field.id)
        if field.data_type == "string":
            # SQL Server's default collation orders case-insensitively; the raw value breaks ties
            # so paging stays deterministic.
            keys.append(column.str.to_lowercase())
            descending.append(desc)
        keys.append(column)
        descending.append(desc)
    # SQL Server puts NULL first ascending and last descending; maintain_order keeps ties stable.
    return lambda frame: frame.sort(
        keys, descending=descending, nulls_last=descending, maintain_order=True
    )


# -- filters -------------------------------------------------------------------------------------


def filter_expression(spec: ConnectorSpec, params: Mapping[str, str]) -> pl.Expr | None:
    """The combined condition of the filter lists and `filterjson` (ANDed when both are given)."""
    parts = [
        expr
        for expr in (_list_filter(spec, params), _json_filter(spec, params.get("filterjson")))
        if expr is not None
    ]
    if not parts:
        return None
    combined = parts[0] if len(parts) == 1 else parts[0] & parts[1]
    # SQL semantics: a comparison with NULL is unknown, and unknown rows are not returned.
    return combined.fill_null(False)


def _list_filter(spec: ConnectorSpec, params: Mapping[str, str]) -> pl.Expr | None:
    names = ("filterfieldids", "filtervalues", "operatortypes")
    raw = [params.get(name) for name in names]
    if all(value is None or value == "" for value in raw):
        return None
    if any(value is None for value in raw):
        missing = ", ".join(n for n, v in zip(names, raw, strict=True) if v is None)
        raise AfasError(f"Filter is incomplete: {missing} missing", ERROR_UNEXPECTED)
    # `;` separates OR-groups, `,` ANDs within a group; all three lists share the separators.
    ids, values, ops = ([group.split(",") for group in text.split(";")] for text in raw)  # type: ignore[union-attr]
    shapes = [[len(group) for group in lists] for lists in (ids, values, ops)]
    if not shapes[0] == shapes[1] == shapes[2]:
        raise AfasError(
            "The number of filter fields, filter values and operator types does not match "
            f"(filterfieldids {shapes[0]}, filtervalues {shapes[1]}, operatortypes {shapes[2]})",
            ERROR_UNEXPECTED,
        )
    groups = [
        [(f.strip(), o, v) for f, o, v in zip(fg, og, vg, strict=True)]
        for fg, og, vg in zip(ids, ops, values, strict=True)
    ]
    return _any_of(spec, groups)


def _json_filter(spec: ConnectorSpec, raw: str | None) -> pl.Expr | None:
    if raw is None or not raw.strip():
        return None
    try:
        filters = _as_list(json.loads(raw)["Filters"]["Filter"])
        groups = [
            [
                (str(f["@FieldId"]).strip(), str(f["@OperatorType"]), _json_text(f.get("#text")))
                for f in _as_list(item["Field"])
            ]
            for item in filters
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AfasError(f"Invalid filterjson: {exc}", ERROR_UNEXPECTED) from exc
    return _any_of(spec, groups)


def _as_list(value: Any) -> list[Any]:
    # The JSON filter, like all AFAS JSON, has a single object where a list holds one element.
    return value if isinstance(value, list) else [value]


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _any_of(spec: ConnectorSpec, groups: list[list[tuple[str, str, str]]]) -> pl.Expr:
    group_exprs = []
    for group in groups:
        conditions = [condition(_field(spec, fid), op, value) for fid, op, value in group]
        group_exprs.append(pl.all_horizontal(conditions))
    return pl.any_horizontal(group_exprs)


def _field(spec: ConnectorSpec, field_id: str) -> FieldSpec:
    for field in spec.fields:
        if field.id == field_id:
            return field
    raise AfasError(f"Connector field '{field_id}' not found", ERROR_UNEXPECTED)


def _operator(raw: str) -> int:
    try:
        op = int(raw.strip())
    except ValueError:
        op = 0
    if not 1 <= op <= 15:
        raise AfasError(f"Unknown operator type '{raw}'", ERROR_UNEXPECTED)
    return op


def condition(field: FieldSpec, op_raw: str, value: str) -> pl.Expr:
    """The expression for one filter field with AFAS operator `op_raw` (1-15, afas-api.md §3.4)."""
    op = _operator(op_raw)
    if op == 8:
        return _is_empty(field)
    if op == 9:
        return ~_is_empty(field)
    if op in (1, 7) and value.strip() in _EMPTY_MARKERS:
        # "= empty" means "is empty" (a NULL never equals anything in SQL).
        return _is_empty(field) if op == 1 else ~_is_empty(field)
    if op == 15:
        return _quick_filter(field, value)
    if op in _TEXT_OPERATORS:
        return _text_condition(field, op, value)
    return _compare(field, op, value)


def _is_empty(field: FieldSpec) -> pl.Expr:
    column = pl.col(field.id)
    if field.data_type == "string":
        return (column.is_null() | (column == "")).fill_null(True)
    return column.is_null()


def _compare(field: FieldSpec, op: int, value: str) -> pl.Expr:
    left, right = _typed_operands(field, value)
    if op == 1:
        return left == right
    if op == 2:
        return left >= right
    if op == 3:
        return left <= right
    if op == 4:
        return left > right
    if op == 5:
        return left < right
    return left != right  # op 7


def _quick_filter(field: FieldSpec, value: str) -> pl.Expr:
    # A third-party source uses `lo..hi` with operator 15 as an inclusive range.
    if ".." in value:
        low, high = value.split("..", 1)
        left, low_value = _typed_operands(field, low)
        _, high_value = _typed_operands(field, high)
        return (left >= low_value) & (left <= high_value)
    return _text_condition(field, 6, value)


def _text_condition(field: FieldSpec, op: int, value: str) -> pl.Expr:
    text = _as_text(field)
    needle = value.lower()  # case-insensitive, like SQL Server's default collation
    if op in (6, 11):
        matched = text.str.contains(needle, literal=True)
    elif op in (10, 12):
        matched = text.str.starts_with(needle)
    else:
        matched = text.str.ends_with(needle)
    return ~matched if op in (11, 12, 14) else matched


def _as_text(field: FieldSpec) -> pl.Expr:
    column = pl.col(field.id)
    if field.data_type == "string":
        return column.str.to_lowercase()
    if field.data_type == "date":
        return column.dt.strftime("%Y-%m-%d")
    if field.data_type == "datetime":
        # Lower-case like the needle, so "T02:" matches.
        return column.dt.strftime("%Y-%m-%dt%H:%M:%S")
    if field.data_type == "boolean":
        return pl.when(column).then(pl.lit("true")).otherwise(pl.lit("false"))
    return column.cast(pl.String)


def _typed_operands(field: FieldSpec, value: str) -> tuple[pl.Expr, pl.Expr]:
    column = pl.col(field.id)
    kind = field.data_type
    if kind == "string":
        return column.str.to_lowercase(), pl.lit(value.lower())
    text = value.strip()
    if kind == "int":
        return column, pl.lit(_parse(field, value, int, text), dtype=pl.Int64)
    if kind == "decimal":
        return column, pl.lit(_parse(field, value, _decimal, text))
    if kind == "boolean":
        return column, pl.lit(_parse(field, value, _boolean, text))
    moment = _parse(field, value, _moment, text)
    if kind == "date" and moment.time() == datetime.min.time():
        return column, pl.lit(moment.date(), dtype=pl.Date)
    # A datetime field, or a date field compared with a time of day: compare as datetimes.
    return column.cast(pl.Datetime("us")), pl.lit(moment, dtype=pl.Datetime("us"))


def _parse(field: FieldSpec, value: str, parser: Callable[[str], Any], text: str) -> Any:
    try:
        return parser(text)
    except (ValueError, InvalidOperation) as exc:
        raise AfasError(
            f"Type mismatch: '{value}' is not a valid {field.data_type} value "
            f"for connector field '{field.id}'",
            ERROR_UNEXPECTED,
        ) from exc


def _decimal(text: str) -> Decimal:
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError(text)
    return number


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(text)


def _moment(text: str) -> datetime:
    # Filter values are Amsterdam wall-clock without a `Z` (afas-api.md §3.5); a `Z` or an offset
    # would suggest the caller thinks in UTC, so it is refused rather than silently shifted.
    match = _DATE.match(text)
    if match is None:
        raise ValueError(text)
    day = date.fromisoformat(match.group(1))
    if match.group(2) is None:
        return datetime(day.year, day.month, day.day)
    return datetime.fromisoformat(text)


# -- rendering -----------------------------------------------------------------------------------


def render_page(skip: int, take: int, rows: pl.DataFrame) -> bytes:
    """The GetConnector envelope in one line (Profit 7 style), rows rendered column-wise."""
    head = f'{{"skip":{skip},"take":{take},"rows":['
    return (head + render_rows(rows) + "]}").encode()


def render_rows(rows: pl.DataFrame) -> str:
    """Comma-joined JSON objects, one per row, keys in column order, built by polars in bulk."""
    if rows.height == 0 or rows.width == 0:
        return ""
    parts: list[pl.Expr] = []
    for index, (name, dtype) in enumerate(rows.schema.items()):
        prefix = ("{" if index == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":"
        parts.extend([pl.lit(prefix), _json_value(name, dtype)])
    parts.append(pl.lit("}"))
    line = pl.concat_str(parts).str.join(",")
    return rows.select(line).item()


def _json_value(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if dtype.is_integer() or isinstance(dtype, pl.Decimal):
        # Decimal → String is exact ("-0.50", never "-.5" or a float repr).
        text = column.cast(pl.String)
    elif dtype == pl.Date:
        # AFAS writes dates as midnight with its meaningless `Z`.
        text = column.dt.strftime('"%Y-%m-%dT00:00:00Z"')
    elif isinstance(dtype, pl.Datetime):
        text = _wall_clock(column, dtype).dt.strftime('"%Y-%m-%dT%H:%M:%SZ"')
    elif dtype == pl.Boolean:
        text = pl.when(column).then(pl.lit("true")).when(~column).then(pl.lit("false"))
    elif dtype == pl.String:
        # polars' JSON encoder does the escaping; strip the one-field object around the value.
        encoded = pl.struct(column.alias("v")).struct.json_encode()
        text = encoded.str.strip_prefix('{"v":').str.strip_suffix("}")
    else:
        raise TypeError(f"column {name!r} has type {dtype}, which AFAS does not serve")
    return text.fill_null(pl.lit("null"))


def _wall_clock(column: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    # AFAS's datetimes are Amsterdam wall-clock; an aware column is shown in Amsterdam time.
    if dtype.time_zone is None:
        return column
    return column.dt.convert_time_zone("Europe/Amsterdam").dt.replace_time_zone(None)
