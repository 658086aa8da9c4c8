"""The benchmark runner's own helpers (the benchmarks themselves never run in CI)."""

from __future__ import annotations

import os
import sys

from benchmarks.proctree import command_name, measure, rss_bytes, tree_pids
from benchmarks.run import _figures, _scale, _seconds


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
