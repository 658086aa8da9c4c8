"""Typed GetConnector filters.

AFAS takes filters as three parallel lists (`filterfieldids`, `filtervalues`, `operatortypes`)
where `,` ANDs conditions within a group and `;` ORs groups: a filter in disjunctive normal form.
Build conditions with `F`, combine them with `&` and `|`; AND over ORs is distributed into that
form. AFAS documents no escaping for `,` and `;` in values, so such filters are sent as
`filterjson` instead.

    (F("UnitId") == 1) & (F("Mutatie_datum") >= datetime(2025, 1, 1))
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from itertools import product
from zoneinfo import ZoneInfo

FilterValue = str | int | Decimal | bool | dt.date | dt.datetime | None

# AFAS reads and writes wall-clock time in Amsterdam (afas-api.md §3.5).
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Operator(IntEnum):
    """AFAS `operatortypes` codes (afas-api.md §3.4)."""

    EQUAL = 1
    GREATER_OR_EQUAL = 2
    LESS_OR_EQUAL = 3
    GREATER = 4
    LESS = 5
    CONTAINS = 6
    NOT_EQUAL = 7
    IS_EMPTY = 8
    IS_NOT_EMPTY = 9
    STARTS_WITH = 10
    NOT_CONTAINS = 11
    NOT_STARTS_WITH = 12
    ENDS_WITH = 13
    NOT_ENDS_WITH = 14
    QUICK_FILTER = 15


_VALUELESS = (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY)


def format_value(value: FilterValue) -> str:
    """Format a value the way AFAS expects it in a filter (no `Z` on datetimes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(
        f"cannot use a {type(value).__name__} as an AFAS filter value; use str, int, "
        "Decimal (not float: it is inexact), bool, date or datetime"
    )


def validate_field_id(field_id: object) -> str:
    """Check a field id can be written in the list form: non-empty, without `,` or `;`."""
    if not isinstance(field_id, str) or not field_id.strip():
        raise ValueError(f"an AFAS field id must be a non-empty string, got {field_id!r}")
    if "," in field_id or ";" in field_id:
        raise ValueError(f"AFAS field id {field_id!r} contains ',' or ';', which AFAS cannot parse")
    return field_id


@dataclass(frozen=True)
class Condition:
    """One condition: `field operator value`."""

    field: str
    operator: Operator
    value: FilterValue = None

    def __post_init__(self) -> None:
        validate_field_id(self.field)
        object.__setattr__(self, "operator", Operator(self.operator))
        if self.value is None and self.operator not in _VALUELESS:
            raise ValueError(
                f"filter on {self.field!r} with operator {self.operator.name} needs a value"
            )
        format_value(self.value)  # fail at construction, not at request time

    @property
    def text(self) -> str:
        """The value as AFAS reads it; is-empty / is-not-empty send an empty value."""
        return format_value(self.value)

    def __and__(self, other: Condition | Filter) -> Filter:
        return Filter.of(self) & other

    def __or__(self, other: Condition | Filter) -> Filter:
        return Filter.of(self) | other


@dataclass(frozen=True)
class Filter:
    """An OR of AND-groups of conditions. A filter with one empty group matches everything."""

    groups: tuple[tuple[Condition, ...], ...]

    @classmethod
    def of(cls, item: Condition | Filter) -> Filter:
        if isinstance(item, Filter):
            return item
        if isinstance(item, Condition):
            return cls(((item,),))
        raise TypeError(f"expected a Condition or Filter, got {type(item).__name__}")

    @property
    def matches_all(self) -> bool:
        return any(not group for group in self.groups)

    def __and__(self, other: Condition | Filter) -> Filter:
        right = Filter.of(other)
        # (A | B) & (C | D) == A&C | A&D | B&C | B&D: AFAS only understands OR-of-ANDs.
        return Filter(tuple(a + b for a, b in product(self.groups, right.groups)))

    def __or__(self, other: Condition | Filter) -> Filter:
        right = Filter.of(other)
        if self.matches_all or right.matches_all:
            return Filter(((),))
        return Filter(self.groups + right.groups)

    def needs_json(self) -> bool:
        """True when a value holds `,` or `;`, which the list form cannot express."""
        return any("," in c.text or ";" in c.text for group in self.groups for c in group)

    def to_query_params(self) -> dict[str, str]:
        """The query parameters for this filter: the three lists, or `filterjson` if needed."""
        if self.matches_all:
            return {}
        if self.needs_json():
            return {"filterjson": self.to_filterjson()}
        return {
            "filterfieldids": _join(self.groups, lambda c: c.field),
            "filtervalues": _join(self.groups, lambda c: c.text),
            "operatortypes": _join(self.groups, lambda c: str(int(c.operator))),
        }

    def to_filterjson(self) -> str:
        """The documented `filterjson` form: one `Filter` per OR-group, fields ANDed."""
        filters = [
            {
                "@FilterId": f"Filter {number}",
                "Field": [
                    {"@FieldId": c.field, "@OperatorType": str(int(c.operator)), "#text": c.text}
                    for c in group
                ],
            }
            for number, group in enumerate(self.groups, start=1)
            if group
        ]
        return json.dumps({"Filters": {"Filter": filters}}, separators=(",", ":"))


def _join(groups: Iterable[tuple[Condition, ...]], part: Callable[[Condition], str]) -> str:
    return ";".join(",".join(part(c) for c in group) for group in groups)


def all_of(*items: Condition | Filter) -> Filter:
    """AND of the items; with no items, a filter that matches everything."""
    result = Filter(((),))
    for item in items:
        result = result & item
    return result


def any_of(*items: Condition | Filter) -> Filter:
    """OR of the items."""
    if not items:
        raise ValueError("any_of needs at least one condition")
    result = Filter.of(items[0])
    for item in items[1:]:
        result = result | item
    return result


class F:
    """A field reference for building conditions: `F("UnitId") == 1`."""

    __slots__ = ("field",)
    __hash__ = None  # type: ignore[assignment]  # == builds a Condition, so F is unhashable

    def __init__(self, field: str) -> None:
        self.field = validate_field_id(field)

    def _c(self, operator: Operator, value: FilterValue) -> Condition:
        return Condition(self.field, operator, value)

    def __eq__(self, value: FilterValue) -> Condition:  # type: ignore[override]
        return self._c(Operator.EQUAL, value)

    def __ne__(self, value: FilterValue) -> Condition:  # type: ignore[override]
        return self._c(Operator.NOT_EQUAL, value)

    def __ge__(self, value: FilterValue) -> Condition:
        return self._c(Operator.GREATER_OR_EQUAL, value)

    def __le__(self, value: FilterValue) -> Condition:
        return self._c(Operator.LESS_OR_EQUAL, value)

    def __gt__(self, value: FilterValue) -> Condition:
        return self._c(Operator.GREATER, value)

    def __lt__(self, value: FilterValue) -> Condition:
        return self._c(Operator.LESS, value)

    def contains(self, value: str) -> Condition:
        return self._c(Operator.CONTAINS, value)

    def not_contains(self, value: str) -> Condition:
        return self._c(Operator.NOT_CONTAINS, value)

    def starts_with(self, value: str) -> Condition:
        return self._c(Operator.STARTS_WITH, value)

    def not_starts_with(self, value: str) -> Condition:
        return self._c(Operator.NOT_STARTS_WITH, value)

    def ends_with(self, value: str) -> Condition:
        return self._c(Operator.ENDS_WITH, value)

    def not_ends_with(self, value: str) -> Condition:
        return self._c(Operator.NOT_ENDS_WITH, value)

    def is_empty(self) -> Condition:
        return self._c(Operator.IS_EMPTY, None)

    def is_not_empty(self) -> Condition:
        return self._c(Operator.IS_NOT_EMPTY, None)

    def quick_filter(self, value: FilterValue) -> Condition:
        return self._c(Operator.QUICK_FILTER, value)

    def __repr__(self) -> str:
        return f"F({self.field!r})"
