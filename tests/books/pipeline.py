"""Running the real pipeline on hand-written books: serve them through the simulator's HTTP
layer and extract, build and publish as against any AFAS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from afas_pipeline.runner import failures
from afas_pipeline.simulator.server import ServerThread
from tests.books.afas import Books, BooksEnvironment
from tests.conftest import HISTORY_START, Pipeline, Simulator, pipeline_env


@dataclass(frozen=True)
class Loaded:
    """A data directory the pipeline loaded from the books, and the run that did it."""

    data_dir: Path
    result: dg.ExecuteInProcessResult


@contextmanager
def serving(books: Books) -> Iterator[Simulator]:
    """The books behind a real socket, as AFAS's App Connector."""
    environment = BooksEnvironment(books)
    server = ServerThread(environment)  # type: ignore[arg-type]
    server.start()
    try:
        yield Simulator(environment, server.base_url)  # type: ignore[arg-type]
    finally:
        server.stop()


def load(
    simulator: Simulator, data_dir: Path, instance: dg.DagsterInstance, end: date
) -> dg.ExecuteInProcessResult:
    """Every partition from the pipeline's first day (2025-01-01, which also holds everything
    modified before it) to `end`, in one run."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in pipeline_env(simulator, data_dir).items():
            patch.setenv(name, value)
        return Pipeline(simulator, data_dir, instance).run(HISTORY_START, end)


def load_books(books: Books, data_dir: Path, end: date) -> Loaded:
    """`books` served and loaded into `data_dir` through `end`; the run must succeed."""
    with serving(books) as simulator, dg.DagsterInstance.ephemeral() as instance:
        result = load(simulator, data_dir, instance, end)
        assert result.success, failures(result)
    return Loaded(data_dir, result)
