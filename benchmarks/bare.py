"""The limit: the pipeline's pages downloaded by a bare httpx loop, with nothing done to them.

`python -m benchmarks.bare PLAN.json` reads the queries the pipeline would send (connector, its
filter parameters, `take`) and pages each with skip/take until a short page, `concurrency`
queries at a time, like the client's worker threads. Rows are only counted (orjson, else json);
nothing is typed, written or kept. Imports nothing of the pipeline, so its start-up is bare too.
Prints one JSON line: rows, pages, bytes, seconds.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import httpx

try:
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover
    loads = json.loads


def _page_all(client: httpx.Client, base: str, query: dict) -> tuple[int, int, int]:
    rows = pages = size = 0
    skip, take = 0, query["take"]
    while True:
        params = {"skip": str(skip), "take": str(take), **query["params"]}
        url = f"{base}/connectors/{query['connector']}?{urlencode(params, quote_via=quote)}"
        response = client.get(url)
        response.raise_for_status()
        count = len(loads(response.content)["rows"])
        rows, pages, size = rows + count, pages + 1, size + len(response.content)
        if count < take:
            return rows, pages, size
        skip += take


def main(plan_path: str) -> int:
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    headers = {"Authorization": plan["authorization"], "Accept": "application/json"}
    limits = httpx.Limits(max_connections=plan["concurrency"])
    started = time.perf_counter()
    with (
        httpx.Client(headers=headers, limits=limits, timeout=120) as client,
        ThreadPoolExecutor(plan["concurrency"]) as pool,
    ):
        results = list(pool.map(lambda q: _page_all(client, plan["base_url"], q), plan["queries"]))
    seconds = time.perf_counter() - started
    rows, pages, size = (sum(r[i] for r in results) for i in range(3))
    print(json.dumps({"rows": rows, "pages": pages, "bytes": size, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
