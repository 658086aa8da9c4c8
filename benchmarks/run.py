"""Benchmarks: how fast and lean the pipeline is, against the limit and against a peer.

    .venv/bin/python -m benchmarks.run                       # 100k and 1M lines, 0 and 300 ms
    .venv/bin/python -m benchmarks.run --scales 100000 --latencies 0 --repeat 3
    .venv/bin/python -m benchmarks.run --no-peer             # without dlt
    .venv/bin/python -m benchmarks.run --scales 100k,1M,5M --latencies 0 --peer-max-lines 1M

For every ledger size and simulated AFAS latency, one run on this machine starts the simulator
(`python -m afas_pipeline.simulator --scale N --latency-ms L`, a fixed clock and seed) and
measures, each in its own process, with the peak RSS of the whole process tree sampled from
/proc and the API calls from the simulator's request counter:

pipeline    `afas-pipeline run` over the whole history: the cold backfill (extract, deletion
            checks, dbt build, publish), then after the simulator's clock moved one day the
            incremental run of yesterday and today, then the same run with no changes (repeated).
extract     the pipeline's extraction alone (`load_days` of the three change-tracked
            connectors, as the extract assets call it), without Dagster or dbt.
limit       the same pages fetched by a bare httpx loop with the same concurrency, rows only
            counted (`benchmarks.bare`); and the trial balance as one bare DuckDB query over
            the raw Parquet (newest version per key, deletions left out) against dbt's build.
peer        the same three connectors loaded by dlt's `rest_api` source into DuckDB
            (incremental on Mutatie_datum, merge on the key; `benchmarks.peer_dlt`), cold,
            incremental and no-change. dlt lives in its own virtualenv, benchmarks/.venv-dlt,
            created on first use (dlt never enters the product's dependencies).

Results go to benchmarks/results.md (or --out): the machine, the command, a table per size and
latency with ratios (pipeline / limit, pipeline / peer), and the raw figures as JSON. Nothing
is committed but results.md; scratch data goes to a temporary folder (or --work-dir).
The first table puts the sizes side by side: how an incremental day and a run that finds
nothing grow with the ledger. Not part of CI: it takes minutes (a 1M-line ledger is generated in
~40 s; dlt's cold load of it takes minutes at 300 ms latency). The simulator holds its ledger in
memory: 5M lines take ~3.7 GB and ~3.5 min of CPU to generate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.proctree import Measured, measure

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
DLT_VENV = BENCH_DIR / ".venv-dlt"
DLT_REQUIREMENT = "dlt[duckdb,parquet]==1.31.0"
PY = sys.executable
HISTORY_DAYS = 456  # the simulator's default history
CONCURRENCY = 4  # the client's default max_concurrency
SEED = 42
# `afas-pipeline run` prints a line per asset: "  afas/<name>   rows=1, pages=1, ..."
_ASSET_LINE = re.compile(r"^\s*(afas/[^\s:]+):?\s+(\S+=.*)$")
_DBT_MODELS = re.compile(r"^\s*dbt models built and tested\s+(\d+)", re.MULTILINE)
_STEP_TIME = re.compile(r'Finished execution of step "([^"]+)" in ([\d.]+)(ms|s|m\d+s)')


def _figures(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(", ") if "=" in part)


def _seconds(amount: str, unit: str) -> float:
    if unit == "ms":
        return float(amount) / 1000
    if unit == "s":
        return float(amount)
    return float(amount) * 60 + float(unit[1:-1])  # "1m16s" comes as ("1", "m16s")


@dataclass
class Phase:
    """One measured process: what it took and what it cost."""

    name: str
    wall_s: float
    peak_tree_mb: float
    peak_process_mb: float
    api_calls: int
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s else 0.0


class Simulator:
    """The simulator in a child process, and its admin endpoints."""

    def __init__(self, lines: int, latency_ms: float, now: datetime) -> None:
        from afas_pipeline.simulator.process import SimulatorProcess

        args = ["--scale", str(lines), "--seed", str(SEED), "--now", now.strftime("%Y-%m-%dT%H:%M")]
        if latency_ms:
            args += ["--latency-ms", str(latency_ms)]
        self.process = SimulatorProcess(args, startup_timeout=600)
        self.http: httpx.Client | None = None

    def __enter__(self) -> Simulator:
        self.process.start()
        self.http = httpx.Client(headers={"Authorization": self.authorization}, timeout=600)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.http is not None:
            self.http.close()
        self.process.stop()

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def token(self) -> str:
        return self.process.token_data

    @property
    def authorization(self) -> str:
        from afas_pipeline.afas.token import AfasToken

        return AfasToken(self.token).authorization_header()

    def _admin(self, method: str, name: str, body: Any = None) -> Any:
        assert self.http is not None
        response = self.http.request(
            method, f"{self.base_url}/_simulator/{name}", json=body if body is not None else None
        )
        response.raise_for_status()
        return response.json()

    def reset_requests(self) -> None:
        self._admin("DELETE", "requests")

    def requests(self) -> int:
        return int(self._admin("GET", "requests")["total"])

    def advance(self, days: float) -> dict[str, Any]:
        return self._admin("POST", "clock", {"days": days})

    def state(self) -> dict[str, Any]:
        return self._admin("GET", "state")


class Bench:
    """Everything measured for one ledger size and one latency."""

    def __init__(self, args: argparse.Namespace, lines: int, latency_ms: float) -> None:
        self.args = args
        self.lines = lines
        self.latency_ms = latency_ms
        # Yesterday noon: after the clock moves a day it is today, which is a partition.
        today = date.today()
        self.now = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=12)
        self.start = self.now.date() - timedelta(days=HISTORY_DAYS)
        self.end = self.now.date()
        self.work = Path(args.work_dir) / f"lines{lines}-lat{int(latency_ms)}"
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.phases: dict[str, list[Phase]] = {}
        self.notes: list[str] = []
        self.ledger_rows = lines  # the simulator's own count, once it runs
        # dlt's cold load of millions of lines takes many minutes: --peer-max-lines skips it.
        peer_max = args.peer_max_lines
        self.with_peer = not args.no_peer and (peer_max is None or lines <= peer_max)

    # -- helpers ------------------------------------------------------------------------------

    def env(self, sim: Simulator, data_dir: Path) -> dict[str, str]:
        # The pipeline's settings are the benchmark's own, but for the dbt build's memory cap,
        # which a large scale needs raised (AFAS_DBT_MEMORY_LIMIT=4GB python -m benchmarks.run).
        kept = ("AFAS_DBT_MEMORY_LIMIT",)
        env = {
            k: v
            for k, v in os.environ.items()
            if k in kept or not k.startswith(("AFAS_", "DAGSTER_"))
        }
        env.update(
            AFAS_BASE_URL=sim.base_url,
            AFAS_TOKEN=sim.token,
            AFAS_PIPELINE_DATA_DIR=str(data_dir),
            AFAS_PIPELINE_START_DATE=self.start.isoformat(),
            PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(ROOT),
        )
        return env

    def record(self, sim: Simulator, name: str, result: Measured, rows: int, **extra: Any) -> Phase:
        if not result.ok:
            raise RuntimeError(
                f"{name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                f"{result.stderr[-5000:]}"
            )
        # The largest processes of the tree (e.g. the Dagster run and dbt's subprocess), MB.
        biggest = sorted(result.peak_by_command.items(), key=lambda item: -item[1])[:2]
        extra["peak_mb_by_process"] = {name: round(size / 2**20) for name, size in biggest}
        phase = Phase(
            name,
            round(result.wall_s, 3),
            round(result.peak_tree_rss / 2**20, 1),
            round(result.peak_process_rss / 2**20, 1),
            sim.requests(),
            rows,
            extra,
        )
        self.phases.setdefault(name, []).append(phase)
        print(
            f"  {name:28} {phase.wall_s:8.2f} s  {phase.peak_tree_mb:7.0f} MB  "
            f"{phase.api_calls:5d} calls  {rows:8d} rows  {extra or ''}",
            flush=True,
        )
        return phase

    # -- phases -------------------------------------------------------------------------------

    def pipeline(self, sim: Simulator, name: str, data_dir: Path, start: date, end: date) -> None:
        sim.reset_requests()
        command = [PY, "-m", "afas_pipeline.cli", "run", "--verbose", "--start", str(start)]
        command += ["--end", str(end)]
        result = measure(command, env=self.env(sim, data_dir), cwd=ROOT)
        log = self.work / f"{name}-{len(self.phases.get(name, []))}"
        log.with_suffix(".out").write_text(result.stdout)
        log.with_suffix(".err").write_text(result.stderr)
        assets = {}
        for line in result.stdout.splitlines():
            match = _ASSET_LINE.match(line)
            if match:
                assets[match.group(1)] = _figures(match.group(2))
        steps = {
            m.group(1): _seconds(m.group(2), m.group(3)) for m in _STEP_TIME.finditer(result.stderr)
        }
        rows = sum(
            int(f.get("rows", 0))
            for asset, f in assets.items()
            if asset.startswith("afas/DWH_") and not asset.endswith("_deletions")
        )
        self.record(
            sim,
            name,
            result,
            rows,
            # The change-tracked connectors are read together in one step.
            extract_s=round(steps.get("afas_changes", 0.0), 2),
            deletions_s=round(steps.get("afas_deletion_checks", 0.0), 2),
            dbt_s=round(steps.get("warehouse_models", 0.0), 2),
            dbt_models=sum(int(m) for m in _DBT_MODELS.findall(result.stdout)),
            publish_s=round(steps.get("analysts__marts_database", 0.0), 2),
            steps_s=round(sum(steps.values()), 2),
        )

    def extract_only(self, sim: Simulator, data_dir: Path) -> None:
        sim.reset_requests()
        command = [PY, "-m", "benchmarks.extract_only", "--start", str(self.start)]
        command += ["--end", str(self.end), "--concurrency", str(CONCURRENCY)]
        result = measure(command, env=self.env(sim, data_dir), cwd=ROOT)
        figures = json.loads(result.stdout.strip().splitlines()[-1]) if result.ok else {}
        self.record(
            sim, "extract", result, figures.get("rows", 0), inner_s=round(figures["seconds"], 2)
        )

    def bare_download(self, sim: Simulator) -> None:
        plan = self.work / "bare-plan.json"
        plan.write_text(json.dumps(self.bare_plan(sim)))
        sim.reset_requests()
        result = measure([PY, "-m", "benchmarks.bare", str(plan)], cwd=ROOT)
        figures = json.loads(result.stdout.strip().splitlines()[-1]) if result.ok else {}
        self.record(
            sim,
            "limit_download",
            result,
            figures.get("rows", 0),
            inner_s=round(figures["seconds"], 2),
            mb=round(figures["bytes"] / 2**20),
        )

    def bare_plan(self, sim: Simulator) -> dict[str, Any]:
        """The pipeline's own queries for the cold range (same chunks, filters, page size)."""
        from afas_pipeline.afas import AfasSettings
        from afas_pipeline.afas.filters import Filter
        from afas_pipeline.extract.days import DayRange
        from afas_pipeline.extract.loader import day_queries
        from afas_pipeline.extract.specs import EXTRACT_SPECS, contract_client

        settings = AfasSettings.create(token=sim.token, base_url=sim.base_url)
        queries = []
        with contract_client(settings) as client:
            days = DayRange.inclusive(self.start, self.end)
            for spec in (s for s in EXTRACT_SPECS if s.partitioned):
                meta = client.describe_get_connector(spec.connector_id)
                take = client._take(spec.connector_id, meta, None)
                planned = day_queries(spec, days, None, self.start, parallel=CONCURRENCY)
                for query in planned:
                    params = {"orderbyfieldids": ",".join(spec.key)}
                    params.update(Filter.of(query.filter).to_query_params())
                    queries.append({"connector": spec.connector_id, "params": params, "take": take})
        return {
            "base_url": sim.base_url,
            "authorization": sim.authorization,
            "concurrency": CONCURRENCY,
            "queries": queries,
        }

    def bare_trial_balance(self, data_dir: Path) -> None:
        """The trial balance's core aggregate as one DuckDB query over the raw Parquet."""
        raw = data_dir / "raw" / "DWH_Financiele_mutaties"
        script = f"""
import duckdb, time, json
t = time.perf_counter()
con = duckdb.connect()
rows = con.execute('''
with versions as (
    select * from read_parquet(['{raw}/days/*.parquet', '{raw}/displaced/*.parquet'],
                               union_by_name = true)
),
newest as (
    select * from versions
    qualify row_number() over (
        partition by UnitId, EntryNo, SeqNo order by Mutatie_datum desc, _loaded_at desc) = 1
),
live as (
    select * from newest anti join read_parquet('{raw}/deleted/*.parquet', union_by_name = true)
        as d using (UnitId, EntryNo, SeqNo)
)
select UnitId, Year, Period, AccountNo, sum(AmtDebit) as debit, sum(AmtCredit) as credit,
       sum(AmtDebit) - sum(AmtCredit) as movement
from live group by all
''').fetchall()
print(json.dumps({{"groups": len(rows), "seconds": time.perf_counter() - t}}))
"""
        timings = []
        for _ in range(3):
            result = measure([PY, "-c", script], cwd=ROOT)
            if not result.ok:
                raise RuntimeError(result.stderr)
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            timings.append((result, figures))
        result, figures = min(timings, key=lambda t: t[0].wall_s)
        phase = Phase(
            "limit_trial_balance",
            round(result.wall_s, 3),
            round(result.peak_tree_rss / 2**20, 1),
            round(result.peak_process_rss / 2**20, 1),
            0,
            figures["groups"],
            {
                "query_s": round(figures["seconds"], 3),
                "walls_s": [round(t[0].wall_s, 2) for t in timings],
            },
        )
        self.phases.setdefault(phase.name, []).append(phase)
        print(f"  {phase.name:28} {phase.wall_s:8.2f} s  {phase.extra}", flush=True)

    def peer(self, sim: Simulator, name: str) -> None:
        plan = self.work / "dlt-plan.json"
        if not plan.exists():
            plan.write_text(json.dumps(self.dlt_plan(sim)))
        sim.reset_requests()
        python = DLT_VENV / "bin" / "python"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AFAS_", "DLT_"))}
        result = measure([str(python), str(BENCH_DIR / "peer_dlt.py"), str(plan)], env=env)
        figures = json.loads(result.stdout.strip().splitlines()[-1]) if result.ok else {}
        if result.ok and figures.get("failed"):
            raise RuntimeError(f"dlt reported failed load jobs: {result.stderr[-3000:]}")
        rows = sum(figures.get("rows", {}).values()) if result.ok else 0
        self.record(
            sim,
            name,
            result,
            rows,
            extract_s=round(figures.get("extract_s", 0), 2),
            normalize_s=round(figures.get("normalize_s", 0), 2),
            load_s=round(figures.get("load_s", 0), 2),
        )

    def dlt_plan(self, sim: Simulator) -> dict[str, Any]:
        from afas_pipeline.extract.specs import EXTRACT_SPECS

        connectors = []
        for spec in (s for s in EXTRACT_SPECS if s.partitioned):
            take = 150_000 // len(spec.contract.fields)
            connectors.append({"id": spec.connector_id, "key": list(spec.key), "take": take})
        return {
            "base_url": sim.base_url,
            "authorization": sim.authorization,
            "concurrency": CONCURRENCY,
            "initial_value": "2000-01-01T00:00:00",
            "connectors": connectors,
            "duckdb_path": str(self.work / "dlt.duckdb"),
            "pipelines_dir": str(self.work / "dlt-pipelines"),
        }

    # -- the whole run ------------------------------------------------------------------------

    def run(self) -> None:
        repeat = self.args.repeat
        print(f"\n== {self.lines} lines, latency {self.latency_ms:g} ms ==", flush=True)
        started = time.perf_counter()
        with Simulator(self.lines, self.latency_ms, self.now) as sim:
            print(f"  simulator ready in {time.perf_counter() - started:.1f} s", flush=True)
            self.ledger_rows = sim.state()["environment"]["connectors"]["DWH_Financiele_mutaties"]
            for i in range(repeat):
                self.bare_download(sim)
                self.extract_only(sim, self.work / f"extract-{i}")
                shutil.rmtree(self.work / f"extract-{i}", ignore_errors=True)
            for _ in range(repeat if self.args.repeat_peer else 1):
                if self.with_peer:
                    shutil.rmtree(self.work / "dlt-pipelines", ignore_errors=True)
                    (self.work / "dlt.duckdb").unlink(missing_ok=True)
                    self.peer(sim, "peer_cold")
            data = self.work / "pipeline"
            for _ in range(repeat):
                shutil.rmtree(data, ignore_errors=True)
                self.pipeline(sim, "pipeline_cold", data, self.start, self.end)
            self.bare_trial_balance(data)
            sim.advance(1)
            day, next_day = self.end, self.end + timedelta(days=1)
            self.pipeline(sim, "pipeline_incremental", data, day, next_day)
            if self.with_peer:
                self.peer(sim, "peer_incremental")
            for _ in range(max(3, repeat)):
                self.pipeline(sim, "pipeline_no_change", data, day, next_day)
                if self.with_peer:
                    self.peer(sim, "peer_no_change")


# -- report ----------------------------------------------------------------------------------


def _best(phases: list[Phase]) -> Phase:
    return min(phases, key=lambda p: p.wall_s)


def _spread(phases: list[Phase]) -> str:
    walls = sorted(p.wall_s for p in phases)
    if len(walls) == 1:
        return f"{walls[0]:.2f}"
    return f"{statistics.median(walls):.2f} ({walls[0]:.2f}-{walls[-1]:.2f}, n={len(walls)})"


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB RAM, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} (shared machine)"
    )


def _versions() -> str:
    import duckdb
    import polars

    text = f"polars {polars.__version__}, duckdb {duckdb.__version__}"
    dlt_python = DLT_VENV / "bin" / "python"
    if dlt_python.exists():
        out = subprocess.run(
            [str(dlt_python), "-c", "import dlt; print(dlt.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        text += f", dlt {out.stdout.strip()}"
    return text


def report(benches: list[Bench], command: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` on {datetime.now().strftime('%Y-%m-%d %H:%M')}.",
        "",
        f"Machine: {_machine()}. Versions: {_versions()}.",
        "",
        "Times are wall-clock seconds of a whole process (start-up included), the best of the "
        "repeats with the median and range where repeated; memory is the peak RSS summed over the "
        "process tree (dbt's subprocess included), API calls from the simulator's counter. "
        "Ratios compare like with like on the same simulator in the same run; the absolute "
        "times only describe this machine.",
        "",
    ]
    lines += _growth(benches)
    for bench in benches:
        p = {name: _best(ph) for name, ph in bench.phases.items()}
        lines += [
            f"## {bench.ledger_rows:,} journal lines, {bench.latency_ms:g} ms AFAS latency",
            "",
            "Rows: the three change-tracked connectors (journal lines, debtors, creditors) "
            "that the extraction, the limit and the peer all load.",
            "",
            "| run | wall s | rows | rows/s | peak MB (tree) | API calls | detail |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, phases in bench.phases.items():
            best = p[name]
            detail = ", ".join(f"{k}={v}" for k, v in best.extra.items())
            lines.append(
                f"| {name} | {_spread(phases)} | {best.rows:,} | {best.rows_per_s:,.0f} | "
                f"{best.peak_tree_mb:,.0f} | {best.api_calls} | {detail} |"
            )
        lines += ["", "| ratio | value | target |", "|---|---|---|"]
        lines += _ratios(p)
        lines.append("")
    lines += [
        "<details><summary>raw figures (JSON)</summary>",
        "",
        "```json",
        json.dumps(
            [
                {
                    "lines": b.ledger_rows,
                    "latency_ms": b.latency_ms,
                    "phases": {k: [asdict(x) for x in v] for k, v in b.phases.items()},
                }
                for b in benches
            ],
            indent=1,
        ),
        "```",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _growth(benches: list[Bench]) -> list[str]:
    """Per latency, how the runs grow with the ledger, against the targets of issue 17: an
    incremental day within 2x a run that finds nothing, a run that finds nothing within 2x
    dlt's, and the cold run's extract step at least 3x faster than dlt's cold load."""
    lines: list[str] = []
    for latency in sorted({b.latency_ms for b in benches}):
        lines += [
            f"## Growth with the ledger, {latency:g} ms AFAS latency",
            "",
            "| journal lines | cold s | incremental day s | its dbt step s | no-change s | "
            "dlt no-change s | incremental / no-change (<= 2) | no-change / dlt (<= 2) | "
            "dlt cold / extract step (>= 3) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        same_latency = [b for b in benches if b.latency_ms == latency]
        for bench in sorted(same_latency, key=lambda b: b.ledger_rows):
            p = {name: _best(ph) for name, ph in bench.phases.items()}
            cold, day = p.get("pipeline_cold"), p.get("pipeline_incremental")
            idle, peer_idle = p.get("pipeline_no_change"), p.get("peer_no_change")
            peer_cold = p.get("peer_cold")
            cells = [
                f"{bench.ledger_rows:,}",
                _wall(cold),
                _wall(day),
                f"{day.extra['dbt_s']:.1f}" if day else "",
                _wall(idle),
                _wall(peer_idle),
                _quotient(day, idle),
                _quotient(idle, peer_idle),
                _ratio(peer_cold and peer_cold.wall_s, cold and cold.extra.get("extract_s")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _wall(phase: Phase | None) -> str:
    return f"{phase.wall_s:.1f}" if phase else ""


def _quotient(num: Phase | None, den: Phase | None) -> str:
    return _ratio(num and num.wall_s, den and den.wall_s)


def _ratio(num: float | None, den: float | None) -> str:
    return f"{num / den:.2f}" if num is not None and den else ""


def _ratios(p: dict[str, Phase]) -> list[str]:
    out = []

    def add(label: str, num: float | None, den: float | None, target: str) -> None:
        if num is None or not den:
            return
        out.append(f"| {label} | {num / den:.2f} | {target} |")

    extract = p.get("extract")
    limit = p.get("limit_download")
    peer = p.get("peer_cold")
    cold = p.get("pipeline_cold")
    add("extract / limit download (wall)", extract and extract.wall_s, limit and limit.wall_s,
        "<= 2")  # fmt: skip
    add("peer cold / extract (wall): how many times faster", peer and peer.wall_s,
        extract and extract.wall_s, ">= 3")  # fmt: skip
    add("pipeline cold / peer cold (wall, with dbt)", cold and cold.wall_s, peer and peer.wall_s,
        "")  # fmt: skip
    if cold and peer:
        add("peer cold / pipeline extract step (Dagster metadata)", peer.wall_s,
            cold.extra.get("extract_s"), ">= 3")  # fmt: skip
    tb = p.get("limit_trial_balance")
    if cold and tb:
        add("dbt build / bare trial-balance query", cold.extra.get("dbt_s"), tb.wall_s, "")
    for kind in ("incremental", "no_change"):
        ours, theirs = p.get(f"pipeline_{kind}"), p.get(f"peer_{kind}")
        add(f"pipeline {kind} / peer {kind} (wall)", ours and ours.wall_s,
            theirs and theirs.wall_s, "")  # fmt: skip
    if extract and peer:
        add("peer cold / extract (peak MB)", peer.peak_tree_mb, extract.peak_tree_mb, "")
        add("peer cold / extract (API calls)", peer.api_calls, extract.api_calls, "")
    return out


# -- command line ----------------------------------------------------------------------------


NOTES_MARKER = "<!-- notes: kept when the benchmark rewrites this file -->"


def _write(path: Path, text: str) -> None:
    """Write the results, keeping the hand-written notes below NOTES_MARKER."""
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES_MARKER) :] if NOTES_MARKER in old else ""
    path.write_text(text + ("\n" + notes if notes else ""))


def _ensure_dlt() -> None:
    """benchmarks/.venv-dlt with dlt[duckdb]: its own venv, never the product's."""
    python = DLT_VENV / "bin" / "python"
    if python.exists():
        return
    print(f"creating {DLT_VENV} with {DLT_REQUIREMENT} ...", flush=True)
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "-p", PY, str(DLT_VENV)], check=True)
        env = {**os.environ, "VIRTUAL_ENV": str(DLT_VENV)}
        subprocess.run([uv, "pip", "install", "-q", DLT_REQUIREMENT], check=True, env=env)
    else:
        subprocess.run([PY, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", DLT_REQUIREMENT], check=True)


def _scale(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--scales", default="100k,1M", help="journal lines, comma-separated")
    parser.add_argument("--latencies", default="0,300", help="AFAS latency per request, ms")
    parser.add_argument("--repeat", type=int, default=1, help="repeats of the cold runs")
    parser.add_argument("--repeat-peer", action="store_true", help="repeat dlt's cold run too")
    parser.add_argument("--no-peer", action="store_true", help="skip dlt")
    parser.add_argument(
        "--peer-max-lines", type=_scale, default=None, help="skip dlt for larger ledgers"
    )
    parser.add_argument("--out", default=str(BENCH_DIR / "results.md"))
    parser.add_argument("--work-dir", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    if not args.no_peer:
        _ensure_dlt()
    temporary = None
    if args.work_dir is None:
        temporary = tempfile.mkdtemp(prefix="afas-bench-")
        args.work_dir = temporary
    benches = []
    try:
        for lines in (_scale(s) for s in args.scales.split(",")):
            for latency in (float(x) for x in args.latencies.split(",")):
                bench = Bench(args, lines, latency)
                benches.append(bench)
                bench.run()
                _write(Path(args.out), report(benches, command.strip()))
    finally:
        if temporary and not args.keep:
            shutil.rmtree(temporary, ignore_errors=True)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
