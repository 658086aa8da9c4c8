"""`python -m afas_pipeline.writeback` (and `afas-pipeline writeback`): the write-back without
Dagster (operators, scripts, crash tests).

Reads the `AFAS_*` settings and `AFAS_PIPELINE_DATA_DIR` from the environment like the
pipeline does. Prints one line per step (`sent <id>`, `posted <id>`, ...) as it happens, then a
JSON summary; a dry run unless `--send` is given. Exit code 1 when a correction was rejected
(or, in a dry run, would be), failed, or the run could not start.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from afas_pipeline.settings import PipelineSettings, data_dir_from_env


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The write-back's options, on `parser` (this module's or `afas-pipeline writeback`)."""
    parser.add_argument("--data-dir", type=Path, default=data_dir_from_env())
    parser.add_argument("--approve", nargs="*", default=[], help="correction ids to approve")
    parser.add_argument("--approved-by", default="", help="who approves (recorded)")
    parser.add_argument("--send", action="store_true", help="post for real (default: dry run)")
    parser.add_argument("--settle-seconds", type=float, default=None)
    parser.add_argument("--journal", default="80", help="journal for corrections without one")


def run_from_args(args: argparse.Namespace) -> int:
    """Run the write-back once with parsed `args`; see the module docstring for the exit code."""
    from afas_pipeline.afas import AfasError, AfasSettings
    from afas_pipeline.extract.reference import RawReference
    from afas_pipeline.extract.specs import contract_client
    from afas_pipeline.writeback.corrections import CorrectionsUnavailableError
    from afas_pipeline.writeback.outbox import WritebackBusyError
    from afas_pipeline.writeback.posting import (
        FAILED_NOW,
        INVALID,
        REJECTED_NOW,
        WritebackOptions,
        run_writeback,
    )
    from afas_pipeline.writeback.safety import WritesNotAllowedError, guarded_http_client

    options = WritebackOptions(
        dry_run=not args.send,
        approve=tuple(args.approve),
        approved_by=args.approved_by,
        default_journal=args.journal,
        settle_seconds=args.settle_seconds,
    )

    def progress(event: str, cid: str) -> None:
        print(f"{event} {cid}", flush=True)

    try:
        settings = AfasSettings.from_env()
        with (
            guarded_http_client() as http,
            contract_client(settings, http_client=http) as client,
        ):
            report = run_writeback(
                client,
                Path(args.data_dir),
                options,
                loaded=RawReference(args.data_dir, PipelineSettings.from_env().raw_url or None),
                run_id=f"cli-{uuid.uuid4().hex[:12]}",
                progress=progress,
            )
    except (
        AfasError,
        WritesNotAllowedError,
        CorrectionsUnavailableError,
        WritebackBusyError,
        ValueError,
    ) as exc:
        print(f"write-back: {exc}", file=sys.stderr)
        return 1
    summary = {
        "counts": report.counts(),
        "states": report.state_counts,
        "stopped": report.stopped,
        "duplicates": report.duplicates,
    }
    print(json.dumps(summary), flush=True)
    refused = report.count(REJECTED_NOW) + report.count(INVALID) + report.count(FAILED_NOW)
    return 1 if refused or report.stopped else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m afas_pipeline.writeback")
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
