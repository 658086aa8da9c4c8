"""The pipeline's extraction alone, without Dagster: `load_days` of the change-tracked connectors.

`python -m benchmarks.extract_only --start D --end D` reads AFAS_BASE_URL, AFAS_TOKEN and
AFAS_PIPELINE_DATA_DIR like the product, loads every change-tracked connector for the range
(typed frames, spooled Parquet, one file per day, the connectors read together: exactly what
the extract step does) with the client's default concurrency, and prints one JSON line: rows,
pages, API calls, seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import partial

from afas_pipeline.afas import AfasSettings
from afas_pipeline.extract.days import DayRange, parse_day
from afas_pipeline.extract.loader import load_days, read_concurrently
from afas_pipeline.extract.specs import EXTRACT_SPECS, contract_client
from afas_pipeline.extract.storage import RawStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=parse_day, required=True)
    parser.add_argument("--end", type=parse_day, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    store = RawStore(os.environ["AFAS_PIPELINE_DATA_DIR"])
    days = DayRange.inclusive(args.start, args.end)
    started = time.perf_counter()
    rows = pages = calls = 0
    settings = AfasSettings.from_env()
    with contract_client(settings, max_concurrency=args.concurrency) as client:
        reads = {
            spec.name: partial(
                load_days,
                store=store,
                spec=spec,
                days=days,
                administrations=None,
                run_id="bench",
                first_partition=args.start,
            )
            for spec in EXTRACT_SPECS
            if spec.partitioned
        }
        for name, report in read_concurrently(client, reads):
            if isinstance(report, Exception):
                raise RuntimeError(f"{name} failed") from report
            rows, pages, calls = rows + report.rows, pages + report.pages, calls + report.api_calls
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "api_calls": calls, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
