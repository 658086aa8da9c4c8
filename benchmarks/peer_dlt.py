"""The peer: the same connectors loaded by dlt's `rest_api` source into DuckDB.

Runs in its own virtualenv (benchmarks/.venv-dlt, made by `benchmarks.run`), so it imports
nothing of the pipeline: `python peer_dlt.py PLAN.json`. The configuration is the idiomatic one
for AFAS: one resource per GetConnector, an offset paginator on skip/take with AFAS's page size,
sorted on the key (`orderbyfieldids`), an incremental cursor on `Mutatie_datum` sent as AFAS's
filter lists (`filterfieldids`/`filtervalues`/`operatortypes`, operator 2 is ">="), merge on
the key, the `AfasToken` header, resources extracted in parallel. AFAS's datetimes carry a
meaningless `Z` that its filter refuses, so the cursor value is sent without it (`convert`).
Prints one JSON line: rows loaded per resource, seconds per dlt stage, total seconds.
"""

from __future__ import annotations

import json
import os
import sys
import time

import dlt
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from dlt.sources.rest_api import rest_api_source


def source(plan: dict):
    resources = []
    for connector in plan["connectors"]:
        resources.append(
            {
                "name": connector["id"],
                "primary_key": connector["key"],
                "write_disposition": "merge",
                "endpoint": {
                    "path": f"connectors/{connector['id']}",
                    "data_selector": "rows",
                    "params": {
                        "orderbyfieldids": ",".join(connector["key"]),
                        "filterfieldids": "Mutatie_datum",
                        "filtervalues": "{incremental.start_value}",
                        "operatortypes": "2",
                    },
                    "incremental": {
                        "cursor_path": "Mutatie_datum",
                        "initial_value": plan["initial_value"],
                        "convert": lambda value: str(value).removesuffix("Z"),
                    },
                    "paginator": OffsetPaginator(
                        limit=connector["take"],
                        offset_param="skip",
                        limit_param="take",
                        total_path=None,
                    ),
                },
            }
        )
    return rest_api_source(
        {
            "client": {
                "base_url": plan["base_url"] + "/",
                "headers": {"Authorization": plan["authorization"], "Accept": "application/json"},
            },
            "resource_defaults": {"endpoint": {"params": {}}},
            "resources": resources,
        },
        name="afas",
        parallelized=True,
    )


def main(plan_path: str) -> int:
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    os.environ.setdefault("EXTRACT__WORKERS", str(plan["concurrency"]))
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    pipeline = dlt.pipeline(
        pipeline_name="afas_peer",
        destination=dlt.destinations.duckdb(plan["duckdb_path"]),
        dataset_name="afas",
        pipelines_dir=plan["pipelines_dir"],
        progress="log" if plan.get("verbose") else None,
    )
    started = time.perf_counter()
    # Parquet load files: dlt's fast path into DuckDB (its default, insert_values, is ~10x
    # slower to load); the same as `pipeline.run(..., loader_file_format="parquet")`.
    pipeline.extract(source(plan), loader_file_format="parquet")
    extracted = time.perf_counter()
    pipeline.normalize()
    normalized = time.perf_counter()
    info = pipeline.load()
    loaded = time.perf_counter()
    rows = {
        table: count
        for table, count in (pipeline.last_trace.last_normalize_info.row_counts or {}).items()
        if not table.startswith("_dlt")
    }
    print(
        json.dumps(
            {
                "rows": rows,
                "extract_s": extracted - started,
                "normalize_s": normalized - extracted,
                "load_s": loaded - normalized,
                "seconds": loaded - started,
                "failed": info.has_failed_jobs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
