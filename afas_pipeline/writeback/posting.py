"""The write-back run: approved corrections to AFAS as FiEntries, exactly once.

The order of one run, and why:
1. Read the proposals and record them in the outbox (new, changed, withdrawn), then record the
   operator's approvals, each tied to the content hash it saw.
2. Resolve every `sent` row first: a POST whose answer we never saw (a crash, a dropped
   connection, a 503 or gateway error that may have come after AFAS booked it). Look its
   voucher number (= the correction id) up in AFAS once AFAS can no longer be working on it;
   found: `posted` with that EnNo; not found: it may be sent again. Such a POST is never
   repeated blindly.
3. For each approved, valid correction, in an order of this run's own (two outboxes racing,
   say a restored backup beside the live deployment, then rarely reach the same correction at
   the same moment): look it up in AFAS immediately before the POST (the outbox could have
   been lost or restored), write `sent` durably, POST, write the result durably. Nothing is
   posted for an administration whose published warehouse does not equal AFAS
   (rec_gl_vs_afas): a correction computed from books that differ from AFAS's is held until
   they agree.
4. Read back every correction posted in this run: one booked more than once in AFAS (outboxes
   racing after all) is an alert: recorded in `writeback.duplicates`, logged as an error, and
   the reversal of each extra entry is proposed as a correction that waits for approval.
A dry run does steps 1 and the validation, and reports the exact payloads; it sends nothing but
reads (GET).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from afas_pipeline.afas import (
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasClient,
    AfasConfigError,
    AfasError,
    AfasMaintenanceError,
    AfasNotFoundError,
    AfasTransientError,
    AfasValidationError,
    F,
    any_of,
)
from afas_pipeline.writeback.corrections import (
    DEFAULT_JOURNAL,
    Correction,
    read_corrections,
    read_warehouse_gaps,
)
from afas_pipeline.writeback.outbox import (
    BY_AFAS,
    BY_PRECHECK,
    POSTED,
    REJECTED,
    SENT,
    Outbox,
    OutboxRow,
    now_utc,
)
from afas_pipeline.writeback.payloads import FI_ENTRIES, build_payload, payload_text
from afas_pipeline.writeback.safety import (
    WritesNotAllowedError,
    require_writes_allowed,
    target_is_simulator,
)
from afas_pipeline.writeback.validation import (
    LoadedReference,
    ReferenceData,
    load_reference,
    validate,
)

logger = logging.getLogger("afas_pipeline.writeback")

LOOKUP_CONNECTOR = "DWH_Financiele_mutaties"
# How long AFAS may still be working on a POST whose connection is gone: its API timeout is
# 900 s (afas-api.md §3.2), and a client-side disconnect does not cancel the request (§6).
# Only after that is "not found" proof that the entry was not booked. The simulator answers
# at once, so a second is plenty there.
REAL_SETTLE_SECONDS = 900.0
SIMULATOR_SETTLE_SECONDS = 1.0
# A run waits this long at most for a sent row to settle; longer waits are left to a later run.
MAX_SETTLE_WAIT_SECONDS = 30.0
# Voucher numbers per read-back query: each adds ~40 characters to AFAS's 2,049-character limit.
READ_BACK_CHUNK = 30


class RunOutcome(StrEnum):
    """What happened to one correction in one run (the run report and its metadata say it)."""

    POSTED_NOW = "posted"
    WOULD_POST = "would_post"
    REJECTED_NOW = "rejected"
    FAILED_NOW = "failed"
    UNRESOLVED = "unresolved"
    SKIPPED = "skipped"
    INVALID = "invalid"
    HELD = "held"


POSTED_NOW, WOULD_POST, REJECTED_NOW, FAILED_NOW, UNRESOLVED, SKIPPED, INVALID, HELD = RunOutcome

Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class WritebackOptions:
    """What one run does; `approve` names correction ids the operator approves now."""

    dry_run: bool = True
    approve: tuple[str, ...] = ()
    approved_by: str = ""
    default_journal: str = DEFAULT_JOURNAL
    settle_seconds: float | None = None  # None: by target (simulator or real AFAS)
    ambiguous_recheck_seconds: float = 1.0
    lookup_connector: str = LOOKUP_CONNECTOR


@dataclass
class Outcome:
    """What happened to one correction in this run."""

    correction_id: str
    outcome: str
    state: str
    detail: str | None = None
    en_no: str | None = None
    content_hash: str | None = None
    payload: dict[str, Any] | None = None


@dataclass
class WritebackReport:
    """The result of one run: an outcome per correction and the outbox's state afterwards."""

    run_id: str
    dry_run: bool
    target: str
    simulator: bool
    outcomes: list[Outcome] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    approved_now: list[str] = field(default_factory=list)
    state_counts: dict[str, int] = field(default_factory=dict)
    reference_sources: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None
    # Corrections the read-back found booked more than once: id, entries, proposed reversals.
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def counts(self) -> dict[str, int]:
        """Outcomes of this run, every kind present (zero if none)."""
        found = Counter(o.outcome for o in self.outcomes)
        kinds = (
            POSTED_NOW, REJECTED_NOW, SKIPPED, HELD, WOULD_POST, INVALID, FAILED_NOW, UNRESOLVED,
        )  # fmt: skip
        # Plain strings as keys: these counts go into Dagster metadata, which refuses enums.
        return {kind.value: found.get(kind, 0) for kind in kinds}

    def by_outcome(self, outcome: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == outcome]


class Writeback:
    """One write-back run over a client and a data directory."""

    def __init__(
        self,
        client: AfasClient,
        data_dir: Path,
        options: WritebackOptions,
        *,
        loaded: LoadedReference,
        run_id: str,
        environ: Mapping[str, str] | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.data_dir = Path(data_dir)
        self.loaded = loaded
        self.options = options
        self.run_id = run_id
        self.environ = environ
        self.progress = progress or (lambda _event, _cid: None)
        self.sleep = sleep
        self.outbox = Outbox(self.data_dir)
        # Decided by what the target says about itself, never by its address (see safety.py).
        self.simulator = target_is_simulator(client)
        self.settle_seconds = options.settle_seconds
        if self.settle_seconds is None:
            self.settle_seconds = (
                SIMULATOR_SETTLE_SECONDS if self.simulator else REAL_SETTLE_SECONDS
            )
        self.report = WritebackReport(
            run_id, options.dry_run, client.settings.environment_label, self.simulator
        )
        self.gaps: dict[int, str] = {}

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> WritebackReport:
        """Do the whole run; see the module docstring for the order of steps."""
        options = self.options
        if not options.dry_run:
            require_writes_allowed(
                self.client.settings.base_url, simulator=self.simulator, environ=self.environ
            )
        if options.approve and not options.approved_by.strip():
            raise ValueError("approving corrections needs approved_by (who approves)")
        corrections = read_corrections(self.data_dir, default_journal=options.default_journal)
        self.gaps = read_warehouse_gaps(self.data_dir)
        proposed = {c.correction_id for c in corrections}
        corrections += [r for r in self.outbox.reversals() if r.correction_id not in proposed]
        by_id = {c.correction_id: c for c in corrections}
        unknown = sorted(set(options.approve) - set(by_id))
        if unknown:
            raise ValueError(f"cannot approve corrections that are not proposed: {unknown}")
        with self.outbox.run_lock():
            self.report.changes = self.outbox.sync(corrections, self.run_id)
            if options.approve:
                approvals = {cid: by_id[cid].content_hash for cid in options.approve}
                self.report.approved_now = self.outbox.approve(
                    approvals, options.approved_by.strip(), self.run_id
                )
            rows = self.outbox.rows()
            if not options.dry_run:
                self._resolve_sent(rows, by_id)
                rows = self.outbox.rows()
            todo = [c for c in corrections if _may_act(rows[c.correction_id])]
            reference = load_reference(self.loaded, self.client, todo) if todo else None
            if reference is not None:
                self.report.reference_sources = dict(reference.source)
            for correction in random.Random(self.run_id).sample(corrections, len(corrections)):
                self._handle(correction, rows[correction.correction_id], reference)
            self._report_withdrawn(rows, by_id)
            if not options.dry_run:
                self._read_back(by_id)
            self.report.outcomes.sort(key=lambda o: o.correction_id)
            self.report.state_counts = self.outbox.state_counts()
        return self.report

    def _handle(self, c: Correction, row: OutboxRow, reference: ReferenceData | None) -> None:
        cid = c.correction_id
        already = {o.correction_id for o in self.report.outcomes}
        if cid in already:  # resolved from `sent` in this run
            return
        skip = _skip_reason(row)
        if skip is not None:
            self._add(cid, SKIPPED, row.state, skip, en_no=row.en_no, content_hash=c.content_hash)
            return
        payload = build_payload(c)
        assert reference is not None  # loaded whenever a correction may be acted on
        problems = validate(c, payload, reference)
        if not row.approved:
            detail = "awaiting approval"
            if problems:
                detail += "; would be refused: " + "; ".join(problems)
            self._add(cid, SKIPPED, row.state, detail, content_hash=c.content_hash, payload=payload)
            return
        if problems:
            self._reject_precheck(c, row, payload, problems)
            return
        gap = self.gaps.get(c.administration_id)
        if gap is not None:
            detail = (
                f"held: administration {c.administration_id}'s warehouse does not equal AFAS "
                f"({gap}; see rec_gl_vs_afas); nothing is posted there until they agree"
            )
            self._add(cid, HELD, row.state, detail, content_hash=c.content_hash, payload=payload)
            return
        if self.options.dry_run:
            self._add(
                cid, WOULD_POST, row.state, None, content_hash=c.content_hash, payload=payload
            )
            return
        if self.report.stopped:
            self._add(cid, SKIPPED, row.state, f"batch stopped: {self.report.stopped}")
            return
        self._send(c, payload)

    def _reject_precheck(
        self, c: Correction, row: OutboxRow, payload: dict[str, Any], problems: list[str]
    ) -> None:
        message = "; ".join(problems)
        if self.options.dry_run:
            self._add(c.correction_id, INVALID, row.state, message, payload=payload)
            return
        unchanged = row.state == REJECTED and row.rejected_hash == c.content_hash
        if unchanged and row.rejected_by == BY_PRECHECK:
            # Still refused for the same content: report it, without a new audit event per run.
            self._add(c.correction_id, REJECTED_NOW, REJECTED, message, content_hash=c.content_hash)
            return
        self.outbox.mark_rejected(
            c.correction_id, c.content_hash, by=BY_PRECHECK, message=message, run_id=self.run_id
        )
        self._add(c.correction_id, REJECTED_NOW, REJECTED, message, content_hash=c.content_hash)

    # -- sending ---------------------------------------------------------------------------

    def _send(self, c: Correction, payload: dict[str, Any]) -> None:
        cid = c.correction_id
        # The outbox may have been lost or restored from a backup: AFAS is the ground truth.
        found = self._lookup(cid, c.administration_id)
        if found:
            self._posted_by_lookup(cid, found, "found in AFAS before posting")
            return
        text = payload_text(payload)
        self.outbox.mark_sent(cid, c.content_hash, text, self.run_id)
        self.progress("sent", cid)
        try:
            result = self.client.post(FI_ENTRIES, payload)
        except AfasValidationError as error:
            self._rejected_by_afas(c, error)
        except (WritesNotAllowedError, AfasAuthenticationError, AfasConfigError) as error:
            self._failed(cid, error, stop=True)
        except AfasMaintenanceError as error:
            self._failed(cid, error, stop=True)
        except (AfasBookingLayoutLockedError, AfasNotFoundError) as error:
            self._failed(cid, error)
        except AfasTransientError as error:
            if error.before_send:
                self._failed(cid, error)
            else:
                self._ambiguous(c, error)
        except AfasError as error:  # the ambiguous write and anything unexpected
            self._ambiguous(c, error)
            if error.status == 503:  # AFAS (or what is in front of it) is in maintenance
                self.report.stopped = f"{type(error).__name__}: {error}"
        else:
            entry = (
                result.results.get("FiEntryPar") if isinstance(result.results, Mapping) else None
            )
            en_no = (
                str(entry.get("EnNo")) if isinstance(entry, Mapping) and entry.get("EnNo") else ""
            )
            body = json.dumps({"status": result.status, "results": result.results}, default=str)
            if not en_no:
                # Booked (2xx) but without a number: the lookup tells which entry it became.
                self.outbox.note(cid, "posted_without_enno", body, self.run_id)
                self._ambiguous(c, None)
                return
            self.outbox.mark_posted(cid, en_no, body, self.run_id, via="POST")
            self.progress("posted", cid)
            self._add(cid, POSTED_NOW, POSTED, None, en_no=en_no, content_hash=c.content_hash)

    def _rejected_by_afas(self, c: Correction, error: AfasValidationError) -> None:
        message = error.external_message or error.message
        body = json.dumps(
            {
                "status": error.status,
                "externalMessage": error.external_message,
                "errorNumber": error.error_number,
                "profitLogReference": error.profit_log_reference,
            }
        )
        self.outbox.mark_rejected(
            c.correction_id,
            c.content_hash,
            by=BY_AFAS,
            message=message,
            run_id=self.run_id,
            error_number=error.error_number,
            profit_log_reference=error.profit_log_reference,
            response_body=body,
        )
        self.progress("rejected", c.correction_id)
        detail = message
        if error.profit_log_reference:
            detail += f" (profitLogReference {error.profit_log_reference})"
        self._add(c.correction_id, REJECTED_NOW, REJECTED, detail, content_hash=c.content_hash)

    def _failed(self, cid: str, error: BaseException, *, stop: bool = False) -> None:
        body = None
        if isinstance(error, AfasError) and error.status is not None:
            body = json.dumps({"status": error.status, "externalMessage": error.external_message})
        self.outbox.mark_failed(cid, str(error), self.run_id, response_body=body)
        self.progress("failed", cid)
        self._add(cid, FAILED_NOW, "failed", str(error))
        if stop:
            self.report.stopped = f"{type(error).__name__}: {error}"

    def _ambiguous(self, c: Correction, error: AfasError | None) -> None:
        """The POST may or may not have been booked: it stays `sent`; look it up shortly."""
        cid = c.correction_id
        detail = str(error) if error is not None else "answer without EnNo"
        self.outbox.note(cid, "ambiguous", detail, self.run_id)
        self.progress("ambiguous", cid)
        self.sleep(min(self.options.ambiguous_recheck_seconds, self.settle_seconds or 0))
        found = self._lookup(cid, c.administration_id)
        if found:
            self._posted_by_lookup(cid, found, "found in AFAS after an ambiguous write")
            return
        # Not found yet does not prove it was not booked: AFAS may still be working on it.
        self._add(
            cid,
            UNRESOLVED,
            SENT,
            f"{detail}; not in AFAS yet: looked up again on the next run before any new POST",
            content_hash=c.content_hash,
        )

    # -- resolving sent rows ---------------------------------------------------------------

    def _resolve_sent(self, rows: dict[str, OutboxRow], by_id: dict[str, Correction]) -> None:
        for cid, row in sorted(rows.items()):
            if row.state != SENT:
                continue
            unit = row.administration_id
            if unit is None:
                continue
            remaining = self._settle_remaining(row)
            if remaining > MAX_SETTLE_WAIT_SECONDS:
                self._add(
                    cid,
                    UNRESOLVED,
                    SENT,
                    f"sent at {row.sent_at:%Y-%m-%d %H:%M:%S} UTC; AFAS may still be working on "
                    f"it: looked up once {self.settle_seconds:g} s have passed",
                )
                continue
            if remaining > 0:
                self.sleep(remaining)
            found = self._lookup(cid, unit)
            if found:
                self._posted_by_lookup(cid, found, "found in AFAS after an interrupted run")
            else:
                self.outbox.mark_unsent(
                    cid, "not found in AFAS after the settle time: it was never booked", self.run_id
                )
                self.progress("unsent", cid)

    def _settle_remaining(self, row: OutboxRow) -> float:
        if row.sent_at is None:
            return 0.0
        age = (now_utc() - row.sent_at).total_seconds()
        return max(0.0, float(self.settle_seconds or 0) - age)

    def _lookup(self, cid: str, unit_id: int) -> list[int]:
        """The entry numbers in AFAS whose voucher number is `cid` (in that administration)."""
        condition = (F("VoucherNo") == cid) & (F("UnitId") == unit_id)
        entries: set[int] = set()
        pages = self.client.iter_pages(
            self.options.lookup_connector,
            filter=condition,
            order_by=("UnitId", "EntryNo", "SeqNo"),
        )
        for page in pages:
            entries.update(int(n) for n in page.frame["EntryNo"].to_list())
        return sorted(entries)

    def _posted_by_lookup(self, cid: str, entries: list[int], how: str) -> None:
        en_no = str(entries[0])
        body = json.dumps({"lookup": self.options.lookup_connector, "EntryNo": entries})
        if len(entries) > 1:
            # Should never happen; if it does, an accountant must see it, not a log line.
            self.outbox.note(cid, "duplicate_in_afas", f"entries {entries}", self.run_id)
        self.outbox.mark_posted(cid, en_no, body, self.run_id, via=how)
        self.progress("posted", cid)
        detail = how if len(entries) == 1 else f"{how}; DUPLICATE entries in AFAS: {entries}"
        self._add(cid, POSTED_NOW, POSTED, detail, en_no=en_no)

    # -- the read-back ----------------------------------------------------------------------

    def _read_back(self, by_id: dict[str, Correction]) -> None:
        """Look up every correction posted in this run; one booked more than once raises the
        alert and gets the reversal of each extra entry proposed (never posted unapproved)."""
        posted = {o.correction_id: o.en_no for o in self.report.outcomes if o.outcome == POSTED_NOW}
        ids = sorted(cid for cid in posted if cid in by_id)
        for start in range(0, len(ids), READ_BACK_CHUNK):
            chunk = ids[start : start + READ_BACK_CHUNK]
            booked = self._entries_by_voucher(chunk)
            for cid in chunk:
                entries = booked.get((cid, by_id[cid].administration_id), [])
                if len(entries) > 1:
                    self._duplicated(by_id[cid], posted[cid], entries)

    def _entries_by_voucher(self, ids: list[str]) -> dict[tuple[str, int], list[int]]:
        """The entry numbers in AFAS per (voucher number, administration), for `ids`."""
        entries: dict[tuple[str, int], set[int]] = {}
        pages = self.client.iter_pages(
            self.options.lookup_connector,
            filter=any_of(*(F("VoucherNo") == cid for cid in ids)),
            order_by=("UnitId", "EntryNo", "SeqNo"),
        )
        for page in pages:
            frame = page.frame.select("VoucherNo", "UnitId", "EntryNo")
            for voucher, unit, entry in frame.iter_rows():
                entries.setdefault((voucher, int(unit)), set()).add(int(entry))
        return {key: sorted(numbers) for key, numbers in entries.items()}

    def _duplicated(self, c: Correction, en_no: str | None, entries: list[int]) -> None:
        # The first booking stays, whichever outbox made it: two outboxes that both find the
        # duplicate then propose the same reversals (deterministic ids), never one each.
        kept, extra = str(entries[0]), [str(n) for n in entries[1:]]
        reversals = []
        for duplicate in extra:
            reversal = c.reversal(duplicate)
            self.outbox.record_duplicate(c, kept, duplicate, reversal, self.run_id)
            reversals.append(reversal.correction_id)
        logger.error(
            "correction %s is booked %d times in AFAS (administration %s, entries %s; this "
            "outbox posted %s): approve the proposed reversal(s) %s to undo the entries after %s",
            c.correction_id, len(entries), c.administration_id, entries, en_no, reversals, kept,
        )  # fmt: skip
        self.report.duplicates.append(
            {"correction_id": c.correction_id, "entries": entries, "kept": kept,
             "reversals": reversals}
        )  # fmt: skip

    # -- reporting -------------------------------------------------------------------------

    def _report_withdrawn(self, rows: dict[str, OutboxRow], by_id: dict[str, Correction]) -> None:
        seen = {o.correction_id for o in self.report.outcomes}
        for cid, row in sorted(rows.items()):
            if cid not in by_id and cid not in seen and row.state == SENT:
                self._add(cid, UNRESOLVED, SENT, "no longer proposed; awaiting lookup")

    def _add(
        self,
        cid: str,
        outcome: str,
        state: str,
        detail: str | None,
        *,
        en_no: str | None = None,
        content_hash: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.report.outcomes.append(
            Outcome(cid, outcome, state, detail, en_no, content_hash, payload)
        )


def _may_act(row: OutboxRow) -> bool:
    return _skip_reason(row) is None


def _skip_reason(row: OutboxRow) -> str | None:
    """Why this correction is not considered at all in this run, or None."""
    if row.state == POSTED:
        if row.sent_hash is not None and row.content_hash != row.sent_hash:
            return (
                "already posted; its content changed afterwards (an entry cannot be changed in "
                "AFAS: propose a new correction)"
            )
        return "already posted"
    if row.state == SENT:
        return "sent; its result is looked up in AFAS before anything else"
    # Pre-check rejections are checked again: the reference data may have changed since.
    unchanged = row.state == REJECTED and row.rejected_hash == row.content_hash
    if unchanged and row.rejected_by == BY_AFAS:
        return "rejected by AFAS; not tried again until the correction changes"
    return None


def run_writeback(
    client: AfasClient,
    data_dir: Path,
    options: WritebackOptions,
    *,
    loaded: LoadedReference,
    run_id: str,
    environ: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WritebackReport:
    """Run the write-back once (see the module docstring); returns what happened. `loaded`:
    the reference data the pipeline already loaded, which the corrections are checked against
    before AFAS is asked."""
    writeback = Writeback(
        client,
        data_dir,
        options,
        loaded=loaded,
        run_id=run_id,
        environ=environ,
        progress=progress,
        sleep=sleep,
    )
    return writeback.run()
