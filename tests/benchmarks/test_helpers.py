"""The benchmark runner's own helpers (the benchmarks themselves never run in CI)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchmarks.proctree import command_name, measure, rss_bytes, tree_pids
from benchmarks.run import Bench, Phase, _figures, _scale, _seconds, report


def test_scale_accepts_suffixes() -> None:
    assert _scale("100k") == 100_000
    assert _scale("1M") == 1_000_000
    assert _scale("2.5m") == 2_500_000
    assert _scale("30_000") == 30_000


def test_step_durations_as_dagster_prints_them() -> None:
    assert _seconds("168", "ms") == 0.168
    assert _seconds("2.62", "s") == 2.62
    assert _seconds("1", "m16s") == 76.0


def test_asset_figures_from_the_headless_output() -> None:
    figures = _figures("rows=4764, pages=15, api_calls=17, duration_s=0.947")
    assert figures == {"rows": "4764", "pages": "15", "api_calls": "17", "duration_s": "0.947"}


def test_tree_memory_counts_children() -> None:
    assert os.getpid() in tree_pids(os.getpid())
    assert rss_bytes(os.getpid()) > 0
    assert rss_bytes(2**22 + 12345) == 0  # no such process
    # A child that allocates ~64 MB and waits a moment: the sampler must see it.
    code = "import time; x = bytearray(64 * 2**20); time.sleep(0.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {code!r}])"
    result = measure([sys.executable, "-c", parent], interval=0.05)
    assert result.ok
    assert result.peak_processes >= 2
    assert result.peak_tree_rss >= 64 * 2**20
    assert any(name.startswith("python") for name in result.peak_by_command)
    assert command_name(os.getpid()).startswith("python")


def test_growth_table_sets_the_sizes_side_by_side_against_the_targets(tmp_path: Path) -> None:
    args = argparse.Namespace(work_dir=str(tmp_path), no_peer=False, peer_max_lines=1_000_000)
    small, large = Bench(args, 100_000, 0), Bench(args, 5_000_000, 0)
    for bench, day, idle in ((small, 12.0, 6.0), (large, 30.0, 7.5)):
        for name, wall, extra in (
            ("pipeline_cold", 60.0, {"extract_s": 4.0}),
            ("pipeline_incremental", day, {"dbt_s": day / 2}),
            ("pipeline_no_change", idle + 1, {}),
            ("pipeline_no_change", idle, {}),  # the best of the repeats counts
        ):
            bench.phases.setdefault(name, []).append(Phase(name, wall, 1, 1, 1, 1, extra))
    small.phases["peer_no_change"] = [Phase("peer_no_change", 2.0, 1, 1, 1, 0)]
    small.phases["peer_cold"] = [Phase("peer_cold", 10.0, 1, 1, 1, 1)]

    table = [line for line in report([large, small], "x").splitlines() if line.startswith("| ")]

    assert not large.with_peer  # above --peer-max-lines
    assert table[1] == "| 100,000 | 60.0 | 12.0 | 6.0 | 6.0 | 2.0 | 2.00 | 3.00 | 2.50 |"
    assert table[2] == "| 5,000,000 | 60.0 | 30.0 | 15.0 | 7.5 |  | 4.00 |  |  |"
