"""Hostile answers for the simulator: a GetConnector page rewritten into what a broken or changed
AFAS environment might send (a field added or removed in the connector, a changed type, a bad
date, an amount with three decimals, a row without its key, a key twice with different content,
too many rows, invalid JSON, an empty body); and, not malformed but wrong, a page without rows
(`NO_ROWS`, the fault `empty_page_rate`).

The rewrite is pure (bytes in, bytes out) so it is easy to test; `FaultMiddleware` applies it to
the answers of `GET /connectors/{id}` when `FaultConfig.hostile` names a mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

EXTRA_FIELD = "Onbekend_veld"
BAD_DATE = "2026-13-45T25:61:00Z"
THREE_DECIMALS = "12.345"
_THREE_DECIMALS_MARK = "__three_decimals__"
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")

Rows = list[dict[str, Any]]


def _extra_field(rows: Rows) -> None:
    # A field added to the GetConnector in AFAS without the pipeline knowing about it.
    for row in rows:
        row[EXTRA_FIELD] = "nieuw"


def _missing_field(rows: Rows) -> None:
    # A field removed from the GetConnector: the last one of the first row.
    del rows[0][list(rows[0])[-1]]


def _changed_type(rows: Rows) -> None:
    # A number that comes back as text (a field whose type changed in the connector).
    key = _first_key(rows[0], lambda v: isinstance(v, int) and not isinstance(v, bool))
    rows[0][key] = "twaalf"


def _bad_date(rows: Rows) -> None:
    key = _first_key(rows[0], lambda v: isinstance(v, str) and bool(_DATE_LIKE.match(v)))
    rows[0][key] = BAD_DATE


def _three_decimals(rows: Rows) -> None:
    # json.dumps writes floats its own way, so a marker is swapped for the exact text afterwards.
    key = _first_key(rows[0], lambda v: isinstance(v, float))
    rows[0][key] = _THREE_DECIMALS_MARK


def _null_key(rows: Rows) -> None:
    # The first field of every contract connector is (the first part of) its key.
    rows[0][next(iter(rows[0]))] = None


def _repeated_key(rows: Rows) -> None:
    # The first row again, in place of the second, with another content: which one is right?
    other = dict(rows[0])
    text = _first_key(other, lambda v: isinstance(v, str), skip=1)
    other[text] = f"{other[text]} (anders)"
    rows[1 : 2 if len(rows) > 1 else 1] = [other]


def _first_key(row: dict[str, Any], accept: Callable[[Any], bool], *, skip: int = 0) -> str:
    for key, value in list(row.items())[skip:]:
        if accept(value):
            return key
    raise ValueError(f"no field of the wanted kind in row {sorted(row)}")


_ROW_MODES: dict[str, Callable[[Rows], None]] = {
    "extra_field": _extra_field,
    "missing_field": _missing_field,
    "changed_type": _changed_type,
    "bad_date": _bad_date,
    "three_decimals": _three_decimals,
    "null_key": _null_key,
    "repeated_key": _repeated_key,
}
MODES = (*_ROW_MODES, "huge_page", "invalid_json", "empty_body")
# Not malformed, but wrong: a page without rows (one empty 200 flagged all debtors deleted).
NO_ROWS = "no_rows"


def rewrite(mode: str, body: bytes, take: int) -> bytes:
    """The page `body` as mode `mode` spoils it; pages without rows stay as they are for the
    row modes (there is nothing to spoil), so a mode only bites where data flows."""
    if mode == "empty_body":
        return b""
    if mode == "invalid_json":
        return body[: max(1, len(body) // 2)]  # a truncated answer
    data = json.loads(body)
    rows: Rows = data.get("rows") or []
    if mode == NO_ROWS:
        data["rows"] = []
        return json.dumps(data, separators=(",", ":")).encode()
    if not rows:
        return body
    if mode == "huge_page":
        # More rows than `take` asked for: whoever trusts the count would skip rows.
        while len(rows) <= take:
            rows.extend(dict(r) for r in list(rows))
    else:
        _ROW_MODES[mode](rows)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace(f'"{_THREE_DECIMALS_MARK}"', THREE_DECIMALS).encode()
