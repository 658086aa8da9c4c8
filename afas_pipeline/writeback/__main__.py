"""`python -m afas_pipeline.writeback`: the write-back without Dagster (scripts, crash tests).

Reads the `AFAS_*` settings and `AFAS_PIPELINE_DATA_DIR` from the environment like the
pipeline does. Prints one line per step (`sent <id>`, `posted <id>`, ...) as it happens, then a
JSON summary; a dry run unless `--send` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from afas_pipeline.afas import AfasClient, AfasSettings
from afas_pipeline.extract.specs import field_meanings
from afas_pipeline.writeback.posting import WritebackOptions, run_writeback
from afas_pipeline.writeback.safety import guarded_http_client


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m afas_pipeline.writeback")
    parser.add_argument("--data-dir", default=os.environ.get("AFAS_PIPELINE_DATA_DIR", "data"))
    parser.add_argument("--approve", nargs="*", default=[], help="correction ids to approve")
    parser.add_argument("--approved-by", default="", help="who approves (recorded)")
    parser.add_argument("--send", action="store_true", help="post for real (default: dry run)")
    parser.add_argument("--settle-seconds", type=float, default=None)
    parser.add_argument("--journal", default="80", help="journal for corrections without one")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the write-back once; exit code 0 unless the run itself failed."""
    args = _parse(argv)
    options = WritebackOptions(
        dry_run=not args.send,
        approve=tuple(args.approve),
        approved_by=args.approved_by,
        default_journal=args.journal,
        settle_seconds=args.settle_seconds,
    )

    def progress(event: str, cid: str) -> None:
        print(f"{event} {cid}", flush=True)

    settings = AfasSettings.from_env()
    with (
        guarded_http_client() as http,
        AfasClient(settings, http_client=http, field_meanings=field_meanings()) as client,
    ):
        report = run_writeback(
            client,
            Path(args.data_dir),
            options,
            run_id=f"cli-{uuid.uuid4().hex[:12]}",
            progress=progress,
        )
    summary = {
        "counts": report.counts(),
        "states": report.state_counts,
        "stopped": report.stopped,
        "duplicates": report.duplicates,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
