"""The write-back outbox: one row per correction, its state and everything sent and received.

It lives in its own DuckDB file, `$AFAS_PIPELINE_DATA_DIR/writeback.duckdb`, schema `writeback`,
never opened by analysts (their copy is published into `marts.duckdb`, see
`copy_outbox_schema`). Every change is one short transaction under a file lock, committed
before the next step: the state `sent` is durable before the POST leaves, and the result is
durable right after it, which is what lets a run that was killed anywhere be finished by the next
one without booking twice.

States: `pending` (proposed, not sent), `sent` (a POST went out and its result is not known:
resolved by looking the voucher number up in AFAS), `posted` (AFAS booked it: `en_no`),
`rejected` (AFAS or the pre-check refused it: not tried again until its content changes),
`failed` (AFAS did not apply it: tried again on the next run).
`duplicates` holds every correction that a read-back found booked more than once in AFAS (two
outboxes racing, a booking AFAS applied but answered with an error), with the reversal proposed
for each extra entry; the reversal is a correction like the others, posted only once approved.
Timestamps are UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb

from afas_pipeline.datadir import OUTBOX_FILE, outbox_lock, sql_string, writeback_run_lock
from afas_pipeline.writeback.corrections import Correction

SCHEMA = "writeback"


class OutboxState(StrEnum):
    """A correction's state in the outbox (see above); the values are stored and dbt reads them."""

    PENDING = "pending"
    SENT = "sent"
    POSTED = "posted"
    REJECTED = "rejected"
    FAILED = "failed"


class RejectedBy(StrEnum):
    """Who refused a rejected correction (stored in `rejected_by`)."""

    AFAS = "afas"
    PRECHECK = "precheck"


PENDING, SENT, POSTED, REJECTED, FAILED = OutboxState
STATES = tuple(OutboxState)
BY_AFAS, BY_PRECHECK = RejectedBy

_DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.outbox (
    correction_id varchar primary key,
    correction_type varchar,
    reason varchar,
    source_ref varchar,
    administration_id integer,
    journal_id varchar,
    fiscal_year integer,
    period integer,
    entry_date date,
    line_count integer,
    amount decimal(18, 2),
    content_hash varchar,
    content_json varchar,
    proposed boolean,
    state varchar,
    approved_hash varchar,
    approved_by varchar,
    approved_at timestamp,
    sent_hash varchar,
    en_no varchar,
    attempts integer,
    first_seen_at timestamp,
    updated_at timestamp,
    sent_at timestamp,
    posted_at timestamp,
    rejected_at timestamp,
    rejected_by varchar,
    rejected_hash varchar,
    request_body varchar,
    response_body varchar,
    external_message varchar,
    error_number bigint,
    profit_log_reference varchar,
    last_error varchar,
    last_run_id varchar
);
create table if not exists {SCHEMA}.approvals (
    correction_id varchar,
    content_hash varchar,
    approved_by varchar,
    approved_at timestamp,
    run_id varchar
);
create table if not exists {SCHEMA}.events (
    event_at timestamp,
    run_id varchar,
    correction_id varchar,
    event varchar,
    state varchar,
    detail varchar
);
create table if not exists {SCHEMA}.duplicates (
    correction_id varchar,
    administration_id integer,
    kept_en_no varchar,
    duplicate_en_no varchar,
    reversal_id varchar,
    reversal_json varchar,
    detected_at timestamp,
    run_id varchar,
    primary key (correction_id, duplicate_en_no)
);
"""
TABLES = ("outbox", "approvals", "events", "duplicates")


class WritebackBusyError(RuntimeError):
    """Another write-back run holds the outbox; two runs at once could post the same entry."""


@dataclass(frozen=True)
class OutboxRow:
    """One row of `writeback.outbox` (the columns the engine decides on)."""

    correction_id: str
    state: str
    content_hash: str | None
    approved_hash: str | None
    sent_hash: str | None
    rejected_hash: str | None
    rejected_by: str | None
    en_no: str | None
    attempts: int
    administration_id: int | None
    sent_at: datetime | None
    request_body: str | None
    proposed: bool

    @property
    def approved(self) -> bool:
        """Approved for exactly its current content."""
        return self.approved_hash is not None and self.approved_hash == self.content_hash


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Outbox:
    """The outbox file of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / OUTBOX_FILE

    # -- locking and transactions ----------------------------------------------------------

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the outbox for one write-back run; a second run fails at once instead of racing.

        The OS drops the lock when a process dies, so a killed run never blocks the next one.
        """
        with ExitStack() as held:
            try:
                held.enter_context(writeback_run_lock(self.data_dir))
            except BlockingIOError:
                raise WritebackBusyError(
                    f"another write-back run is in progress on {self.data_dir}; try again when "
                    "it has finished"
                ) from None
            yield

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One committed transaction on the outbox file, under its file lock."""
        with outbox_lock(self.data_dir), duckdb.connect() as con:
            # Attached under an alias: a file named writeback.duckdb is itself a catalog
            # called "writeback", which would make the schema name ambiguous.
            con.execute(f"attach '{sql_string(self.path)}' as outbox_db")
            con.execute("use outbox_db")
            con.execute(_DDL)
            con.execute("begin transaction")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    def ensure_tables(self) -> None:
        """Create the outbox's tables that are missing (every transaction does this too)."""
        with self.transaction():
            pass

    # -- reading ---------------------------------------------------------------------------

    def rows(self) -> dict[str, OutboxRow]:
        """Every outbox row by correction id."""
        with self.transaction() as con:
            cursor = con.execute(
                f"""select correction_id, state, content_hash, approved_hash, sent_hash,
                           rejected_hash, rejected_by, en_no, attempts, administration_id,
                           sent_at, request_body, proposed
                    from {SCHEMA}.outbox"""
            )
            return {r[0]: OutboxRow(*r) for r in cursor.fetchall()}

    def state_counts(self) -> dict[str, int]:
        """How many corrections are in each state (every state present, zero if none)."""
        with self.transaction() as con:
            found = dict(
                con.execute(
                    f"select state, count(*) from {SCHEMA}.outbox group by state"
                ).fetchall()
            )
        # Plain strings as keys: these counts go into Dagster metadata, which refuses enums.
        return {state.value: int(found.get(state, 0)) for state in STATES}

    def table(self, name: str = "outbox") -> list[dict[str, Any]]:
        """A whole table as dicts (tests, the asset check, small outboxes)."""
        if name not in TABLES:
            raise ValueError(f"no table {name!r} in the outbox")
        with self.transaction() as con:
            cursor = con.execute(f"select * from {SCHEMA}.{name}")
            columns = [d[0] for d in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def reversals(self) -> list[Correction]:
        """The reversals proposed for extra bookings the read-back found."""
        with self.transaction() as con:
            found = con.execute(
                f"select reversal_json from {SCHEMA}.duplicates order by reversal_id"
            ).fetchall()
        return [Correction.from_content(json.loads(text)) for (text,) in found]

    def unreversed_duplicates(self) -> list[dict[str, Any]]:
        """Extra bookings whose reversal is not posted yet (the alert stays on until it is)."""
        with self.transaction() as con:
            cursor = con.execute(
                f"""select d.correction_id, d.administration_id, d.kept_en_no,
                           d.duplicate_en_no, d.reversal_id, coalesce(o.state, 'proposed')
                    from {SCHEMA}.duplicates d
                    left join {SCHEMA}.outbox o on o.correction_id = d.reversal_id
                    where o.state is distinct from '{POSTED}'
                    order by all"""
            )
            columns = [d[0] for d in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    # -- writing ---------------------------------------------------------------------------

    def record_duplicate(
        self, c: Correction, kept: str, duplicate: str, reversal: Correction, run_id: str
    ) -> bool:
        """Note that `c` is booked again as entry `duplicate`, with its reversal; False if that
        was known already."""
        now = now_utc()
        with self.transaction() as con:
            known = con.execute(
                f"select count(*) from {SCHEMA}.duplicates "
                "where correction_id = ? and duplicate_en_no = ?",
                [c.correction_id, duplicate],
            ).fetchone()
            if known and known[0]:
                return False
            content = json.dumps(reversal.content(), ensure_ascii=False)
            con.execute(
                f"insert into {SCHEMA}.duplicates values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    c.correction_id, c.administration_id, kept, duplicate,
                    reversal.correction_id, content, now, run_id,
                ],
            )  # fmt: skip
            detail = (
                f"EnNo {duplicate} books it again (kept {kept}); reversal {reversal.correction_id}"
            )
            _event(con, now, run_id, c.correction_id, "duplicate_in_afas", None, detail)
        return True

    def sync(self, corrections: Sequence[Correction], run_id: str) -> dict[str, list[str]]:
        """Record the current proposals: new ones, changed ones, and ones no longer proposed.

        A changed correction goes back to `pending` (unless it was sent or posted: the entry in
        AFAS cannot change), and its old approval no longer holds, since it names the old hash.
        """
        changes: dict[str, list[str]] = {"new": [], "changed": [], "changed_after_posting": []}
        now = now_utc()
        current = self.rows()
        with self.transaction() as con:
            for c in corrections:
                row = current.get(c.correction_id)
                if row is None:
                    _insert(con, c, now, run_id)
                    _event(con, now, run_id, c.correction_id, "proposed", PENDING, c.content_hash)
                    changes["new"].append(c.correction_id)
                elif row.content_hash != c.content_hash:
                    state = row.state if row.state in (SENT, POSTED) else PENDING
                    _update_content(con, c, state, now, run_id)
                    _event(con, now, run_id, c.correction_id, "changed", state, c.content_hash)
                    key = "changed_after_posting" if row.state == POSTED else "changed"
                    changes[key].append(c.correction_id)
                elif not row.proposed:
                    con.execute(
                        f"update {SCHEMA}.outbox set proposed = true where correction_id = ?",
                        [c.correction_id],
                    )
            proposed_ids = [c.correction_id for c in corrections]
            con.execute(
                f"update {SCHEMA}.outbox set proposed = false "
                "where proposed and not list_contains(?, correction_id)",
                [proposed_ids],
            )
        return changes

    def approve(self, approvals: Mapping[str, str], approved_by: str, run_id: str) -> list[str]:
        """Approve corrections for their given content hash; returns the ids approved now."""
        now = now_utc()
        done = []
        with self.transaction() as con:
            for cid, content_hash in sorted(approvals.items()):
                con.execute(
                    f"""update {SCHEMA}.outbox set approved_hash = ?, approved_by = ?,
                        approved_at = ?, updated_at = ? where correction_id = ?""",
                    [content_hash, approved_by, now, now, cid],
                )
                con.execute(
                    f"insert into {SCHEMA}.approvals values (?, ?, ?, ?, ?)",
                    [cid, content_hash, approved_by, now, run_id],
                )
                _event(con, now, run_id, cid, "approved", None, f"{content_hash} by {approved_by}")
                done.append(cid)
        return done

    def mark_sent(self, cid: str, content_hash: str, request_body: str, run_id: str) -> None:
        """Record the intent to POST, durably, before the request leaves."""
        now = now_utc()
        with self.transaction() as con:
            con.execute(
                f"""update {SCHEMA}.outbox set state = ?, sent_hash = ?, request_body = ?,
                    attempts = attempts + 1, sent_at = ?, updated_at = ?, last_run_id = ?,
                    last_error = null
                    where correction_id = ?""",
                [SENT, content_hash, request_body, now, now, run_id, cid],
            )
            _event(con, now, run_id, cid, "sending", SENT, content_hash)

    def mark_posted(
        self, cid: str, en_no: str, response_body: str, run_id: str, *, via: str
    ) -> None:
        """AFAS booked it (`via` says how we know: the POST's answer or a lookup)."""
        now = now_utc()
        with self.transaction() as con:
            con.execute(
                f"""update {SCHEMA}.outbox set state = ?, en_no = ?, response_body = ?,
                    posted_at = ?, updated_at = ?, last_run_id = ?, last_error = null,
                    external_message = null, error_number = null, profit_log_reference = null
                    where correction_id = ?""",
                [POSTED, en_no, response_body, now, now, run_id, cid],
            )
            _event(con, now, run_id, cid, "posted", POSTED, f"EnNo {en_no} ({via})")

    def mark_rejected(
        self,
        cid: str,
        content_hash: str,
        *,
        by: str,
        message: str,
        run_id: str,
        error_number: int | None = None,
        profit_log_reference: str | None = None,
        response_body: str | None = None,
    ) -> None:
        """Refused (by AFAS or the pre-check): not tried again until the content changes."""
        now = now_utc()
        with self.transaction() as con:
            con.execute(
                f"""update {SCHEMA}.outbox set state = ?, rejected_by = ?, rejected_hash = ?,
                    rejected_at = ?, external_message = ?, error_number = ?,
                    profit_log_reference = ?, response_body = coalesce(?, response_body),
                    updated_at = ?, last_run_id = ?, last_error = ?
                    where correction_id = ?""",
                [
                    REJECTED,
                    by,
                    content_hash,
                    now,
                    message if by == BY_AFAS else None,
                    error_number,
                    profit_log_reference,
                    response_body,
                    now,
                    run_id,
                    message,
                    cid,
                ],
            )
            _event(con, now, run_id, cid, f"rejected_by_{by}", REJECTED, message)

    def mark_failed(self, cid: str, error: str, run_id: str, *, response_body: str | None) -> None:
        """AFAS did not apply it (maintenance, a locked booking layout after all retries...)."""
        self._set_state(cid, FAILED, "failed", error, run_id, response_body=response_body)

    def mark_unsent(self, cid: str, detail: str, run_id: str) -> None:
        """A `sent` row that AFAS does not have, after the settle time: it can be sent again."""
        self._set_state(cid, PENDING, "not_found_in_afas", detail, run_id)

    def note(self, cid: str, event: str, detail: str, run_id: str) -> None:
        """Record an event without changing the state (e.g. an ambiguous write)."""
        now = now_utc()
        with self.transaction() as con:
            con.execute(
                f"update {SCHEMA}.outbox set last_error = ?, updated_at = ?, last_run_id = ? "
                "where correction_id = ?",
                [detail, now, run_id, cid],
            )
            _event(con, now, run_id, cid, event, None, detail)

    def _set_state(
        self,
        cid: str,
        state: str,
        event: str,
        detail: str,
        run_id: str,
        *,
        response_body: str | None = None,
    ) -> None:
        now = now_utc()
        with self.transaction() as con:
            con.execute(
                f"""update {SCHEMA}.outbox set state = ?, last_error = ?, updated_at = ?,
                    last_run_id = ?, response_body = coalesce(?, response_body)
                    where correction_id = ?""",
                [state, detail, now, run_id, response_body, cid],
            )
            _event(con, now, run_id, cid, event, state, detail)


def _insert(con: duckdb.DuckDBPyConnection, c: Correction, now: datetime, run_id: str) -> None:
    con.execute(
        f"""insert into {SCHEMA}.outbox (correction_id, proposed, state, attempts, first_seen_at,
            updated_at, last_run_id) values (?, true, ?, 0, ?, ?, ?)""",
        [c.correction_id, PENDING, now, now, run_id],
    )
    _update_content(con, c, PENDING, now, run_id)


def _update_content(
    con: duckdb.DuckDBPyConnection, c: Correction, state: str, now: datetime, run_id: str
) -> None:
    con.execute(
        f"""update {SCHEMA}.outbox set correction_type = ?, reason = ?, source_ref = ?,
            administration_id = ?, journal_id = ?, fiscal_year = ?, period = ?, entry_date = ?,
            line_count = ?, amount = ?, content_hash = ?, content_json = ?, proposed = true,
            state = ?, updated_at = ?, last_run_id = ?
            where correction_id = ?""",
        [
            c.correction_type,
            c.reason,
            c.source_ref,
            c.administration_id,
            c.journal_id,
            c.fiscal_year,
            c.period,
            c.entry_date,
            len(c.lines),
            c.total_debit,
            c.content_hash,
            json.dumps(c.content(), ensure_ascii=False),
            state,
            now,
            run_id,
            c.correction_id,
        ],
    )


def _event(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    run_id: str,
    cid: str,
    event: str,
    state: str | None,
    detail: str | None,
) -> None:
    con.execute(
        f"insert into {SCHEMA}.events values (?, ?, ?, ?, ?, ?)",
        [now, run_id, cid, event, state, detail],
    )


def copy_outbox_schema(con: duckdb.DuckDBPyConnection, data_dir: Path | str) -> dict[str, int]:
    """Copy schema `writeback` (outbox, approvals, events) into the database `con` is open on.

    For publishing to the analysts' `marts.duckdb`: call inside `publish_marts` on the temporary
    file before it is swapped in. Takes the outbox's file lock for the copy only, so it waits
    at most for one short transaction of a running write-back. Without an outbox yet, the
    tables are created empty, so analysts' queries work from day one. Returns row counts.
    """
    outbox = Outbox(data_dir)
    if outbox.path.exists():
        outbox.ensure_tables()  # an outbox from before a table was added gets it
    with outbox_lock(outbox.data_dir):
        if not outbox.path.exists():
            con.execute(_DDL)
            tables: Iterable[str] = TABLES
            return {f"{SCHEMA}.{t}": 0 for t in tables}
        con.execute(f"attach '{sql_string(outbox.path)}' as writeback_src (read_only)")
        try:
            con.execute(f"create schema if not exists {SCHEMA}")
            counts = {}
            for table in TABLES:
                con.execute(
                    f"create or replace table {SCHEMA}.{table} as "
                    f"select * from writeback_src.{SCHEMA}.{table}"
                )
                row = con.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()
                counts[f"{SCHEMA}.{table}"] = int(row[0]) if row else 0
        finally:
            con.execute("detach writeback_src")
    return counts
