"""The write-back in Dagster: approved corrections posted to AFAS as FiEntries, and a check that
fails while rejected corrections wait. The logic lives in `afas_pipeline.writeback`.

Approving from the UI: launch `writeback_job` (or materialize `writeback/fientries_posted`) with
run config naming the correction ids, who approves, and `dry_run: false` to send:

    ops:
      writeback__fientries_posted:
        config: {approve: [C-123, C-124], approved_by: "j.jansen", dry_run: false}

An approval is stored in the outbox with who and when, for the correction's content hash: a
correction that changes afterwards needs approving again. Approvals made in a dry run are kept,
so "review the dry run, approve, then send" can be three runs or one.
"""

import json
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from pydantic import Field

from afas_pipeline.defs.resources import AfasResource, StorageResource
from afas_pipeline.defs.scope import SINGLE, Scope
from afas_pipeline.extract.reference import RawReference
from afas_pipeline.writeback.corrections import DEFAULT_JOURNAL, CorrectionsUnavailableError
from afas_pipeline.writeback.outbox import OUTBOX_FILE, REJECTED, SENT, Outbox
from afas_pipeline.writeback.posting import (
    SKIPPED,
    WOULD_POST,
    WritebackOptions,
    WritebackReport,
    run_writeback,
)
from afas_pipeline.writeback.safety import WritesNotAllowedError, guarded_http_client

GROUP = "writeback"
REJECTED_CHECK = "no_rejected_corrections"
DUPLICATES_CHECK = "no_duplicate_postings"
# Metadata stays readable in the UI: payloads beyond this many are counted, not shown.
MAX_PAYLOADS_IN_METADATA = 50


class WritebackConfig(dg.Config):
    """Launch config of the write-back: what to approve, and whether to send."""

    dry_run: bool = Field(
        default=True,
        description="Validate and show the payloads without sending anything. Set false to post.",
    )
    approve: list[str] = Field(
        default_factory=list,
        description="Correction ids to approve now (for their current content).",
    )
    approved_by: str = Field(default="", description="Who approves (recorded with the time).")
    default_journal: str = Field(
        default=DEFAULT_JOURNAL,
        description="Journal (JoCo) for corrections that name none; 80 is the memorial journal.",
    )


def writeback_key(scope: Scope = SINGLE) -> dg.AssetKey:
    return scope.key("writeback", "fientries_posted")


def writeback_definitions(
    scope: Scope,
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """One environment's write-back asset and its checks, on its outbox and its AFAS."""
    key = writeback_key(scope)
    resources = scope.resource_keys("afas", "storage")

    @dg.asset(
        key=key,
        deps=[
            scope.key("warehouse", "corrections_proposed"),
            scope.key("analysts", "marts_database"),
        ],
        group_name=scope.name(GROUP),
        kinds={"afas", "duckdb"},
        required_resource_keys=resources,
    )
    def _posted(context: AssetExecutionContext, config: WritebackConfig) -> dg.MaterializeResult:
        """Posts approved corrections to AFAS as FiEntries, exactly once (a dry run by default)."""
        afas, storage = scope.resource(context, "afas"), scope.resource(context, "storage")
        return fientries_posted(context, config, afas, storage)

    @dg.asset_check(asset=key, name=REJECTED_CHECK, required_resource_keys=resources)
    def _rejected(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """Fails while corrections that AFAS (or the pre-check) refused are waiting to be fixed."""
        return no_rejected_corrections(scope.resource(context, "storage"))

    @dg.asset_check(asset=key, name=DUPLICATES_CHECK, required_resource_keys=resources)
    def _duplicates(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """Fails while a correction is booked more than once in AFAS and the reversal of an
        extra entry is not posted yet (found by the read-back after each batch)."""
        return no_duplicate_postings(scope.resource(context, "storage"))

    return [_posted], [_rejected, _duplicates]


def fientries_posted(
    context: AssetExecutionContext,
    config: WritebackConfig,
    afas: AfasResource,
    storage: StorageResource,
) -> dg.MaterializeResult:
    """Posts approved corrections to AFAS as FiEntries, exactly once (a dry run by default)."""
    options = WritebackOptions(
        dry_run=config.dry_run,
        approve=tuple(config.approve),
        approved_by=config.approved_by,
        default_journal=config.default_journal,
    )
    try:
        with (
            guarded_http_client() as http,
            afas.client(http_client=http, max_concurrency=1) as client,
        ):
            report = run_writeback(
                client,
                storage.path,
                options,
                loaded=RawReference(storage.path, storage.raw_url or None),
                run_id=context.run_id,
                progress=lambda event, cid: context.log.info(f"{event} {cid}"),
            )
    except (WritesNotAllowedError, CorrectionsUnavailableError, ValueError) as exc:
        raise dg.Failure(description=str(exc)) from exc
    context.log.info(_summary(report))
    for duplicate in report.duplicates:
        context.log.error(
            f"{duplicate['correction_id']} is booked {len(duplicate['entries'])} times in AFAS "
            f"(entries {duplicate['entries']}): approve the proposed reversal(s) "
            f"{', '.join(duplicate['reversals'])} to undo the extra entries"
        )
    return dg.MaterializeResult(metadata=report_metadata(report, storage))


def no_rejected_corrections(storage: StorageResource) -> dg.AssetCheckResult:
    """Fails while corrections that AFAS (or the pre-check) refused are waiting to be fixed."""
    outbox = Outbox(storage.path)
    rows = outbox.table("outbox") if outbox.path.exists() else []
    rejected = [r for r in rows if r["state"] == REJECTED]
    unresolved = [r for r in rows if r["state"] == SENT]
    table = _markdown(
        ["correction", "by", "message", "profitLogReference"],
        [
            [r["correction_id"], r["rejected_by"], r["last_error"], r["profit_log_reference"]]
            for r in rejected
        ],
    )
    return dg.AssetCheckResult(
        passed=not rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(rejected)} rejected correction(s) waiting: fix them (a changed correction "
            "is tried again after a new approval)"
            if rejected
            else "no rejected corrections"
        ),
        metadata={
            "rejected": len(rejected),
            "sent_unresolved": len(unresolved),
            "rejected_corrections": dg.MetadataValue.md(table or "none"),
        },
    )


def no_duplicate_postings(storage: StorageResource) -> dg.AssetCheckResult:
    """Fails while a correction is booked more than once in AFAS and the reversal of an extra
    entry is not posted yet (found by the read-back after each batch)."""
    outbox = Outbox(storage.path)
    waiting = outbox.unreversed_duplicates() if outbox.path.exists() else []
    table = _markdown(
        ["correction", "administration", "kept EnNo", "extra EnNo", "reversal", "its state"],
        [list(row.values()) for row in waiting],
    )
    return dg.AssetCheckResult(
        passed=not waiting,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(waiting)} extra booking(s) in AFAS: approve and post the proposed reversal(s)"
            if waiting
            else "every correction is booked once"
        ),
        metadata={
            "extra_bookings": len(waiting),
            "duplicates": dg.MetadataValue.md(table or "none"),
        },
    )


# The single environment's (AFAS_ENVIRONMENTS unset), under the names they always had.
WRITEBACK_KEY = writeback_key()
writeback_assets, writeback_checks = writeback_definitions(SINGLE)


def report_metadata(report: WritebackReport, storage: StorageResource) -> dict[str, Any]:
    """What an operator wants to see after a run: counts, the outbox, and (dry run) payloads."""
    counts = report.counts()
    meta: dict[str, Any] = {
        "dry_run": report.dry_run,
        "target": report.target,
        "target_is_simulator": report.simulator,
        **counts,
        **{f"outbox_{state}": n for state, n in report.state_counts.items()},
        "approved_now": ", ".join(report.approved_now) or "none",
        "outbox": str(storage.path / OUTBOX_FILE),
        "outcomes": dg.MetadataValue.md(
            _markdown(
                ["correction", "outcome", "state", "EnNo", "detail"],
                [[o.correction_id, o.outcome, o.state, o.en_no, o.detail] for o in report.outcomes],
            )
            or "no corrections proposed"
        ),
    }
    if report.stopped:
        meta["stopped"] = report.stopped
    if report.duplicates:
        meta["booked_more_than_once"] = dg.MetadataValue.json(report.duplicates)
    if report.reference_sources:
        meta["reference_data"] = dg.MetadataValue.json(report.reference_sources)
    if report.dry_run:
        # Exactly the bodies a real run would POST, and those that wait for an approval.
        for name, outcome in (("payloads", WOULD_POST), ("payloads_awaiting_approval", SKIPPED)):
            payloads = {o.correction_id: o.payload for o in report.by_outcome(outcome) if o.payload}
            shown = dict(list(payloads.items())[:MAX_PAYLOADS_IN_METADATA])
            meta[name] = dg.MetadataValue.json(shown)
            if len(payloads) > len(shown):
                meta[f"{name}_not_shown"] = len(payloads) - len(shown)
    return meta


def _summary(report: WritebackReport) -> str:
    mode = "dry run" if report.dry_run else "run"
    return f"write-back {mode} on {report.target}: " + json.dumps(report.counts())


def _markdown(header: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return ""

    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
