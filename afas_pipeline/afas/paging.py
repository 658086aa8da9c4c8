"""Paging a GetConnector: what one page and one paged read are, the keyset condition, and the
worker threads that run several paged reads in parallel (`AfasClient.iter_pages_many`)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

from afas_pipeline.afas.errors import AfasError
from afas_pipeline.afas.filters import Condition, F, Filter, all_of, any_of

if TYPE_CHECKING:
    from afas_pipeline.afas.client import AfasClient

FilterLike = Filter | Condition


class Page(NamedTuple):
    """One GetConnector page: the typed rows and where they sit in the result."""

    connector_id: str
    skip: int
    take: int
    frame: pl.DataFrame
    row_count: int


@dataclass(frozen=True)
class PageQuery:
    """One paged read for `iter_pages_many`; `tag` is the caller's own bookkeeping."""

    connector_id: str
    filter: FilterLike | None = None
    order_by: Sequence[str] | None = None
    page_size: int | None = None
    tag: object = None
    keyset: bool = False


def page_params(
    order: tuple[str, ...], filter: FilterLike | None, after: Mapping[str, Any] | None
) -> dict[str, str]:
    """The query parameters of one page: its order, and its filter with, for keyset paging,
    the rows after the last key seen (`after`)."""
    params: dict[str, str] = {"orderbyfieldids": ",".join(order)}
    if after is not None:
        rest = _after_key(order, after)
        filter = rest if filter is None else filter & rest
    if filter is not None:
        params.update(Filter.of(filter).to_query_params())
    return params


def _after_key(order: tuple[str, ...], last: Mapping[str, Any]) -> Filter:
    """Rows whose key sorts after `last`: (k1 > a) or (k1 = a and k2 > b) or ..."""
    groups = []
    for i, name in enumerate(order):
        equal = [F(order[j]) == last[order[j]] for j in range(i)]
        groups.append(all_of(*equal, F(name) > last[name]))
    return any_of(*groups)


class ParallelPages:
    """Worker threads paging queries into one bounded queue, drained by a generator."""

    # How often the consumer looks for a failed or finished worker while the queue is empty.
    POLL = 0.02

    def __init__(self, client: AfasClient, queries: list[PageQuery]) -> None:
        self.client = client
        self.queries = queries
        self.workers = max(1, min(client.max_concurrency, len(queries)))
        # Each worker holds at most one page while waiting, so about 2 x workers in memory.
        self.out: queue.Queue[tuple[PageQuery, Page]] = queue.Queue(maxsize=self.workers)
        self.todo: queue.SimpleQueue[PageQuery] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._error_lock = threading.Lock()

    def run(self) -> Iterator[tuple[PageQuery, Page]]:
        if not self.queries:
            return
        for query in self.queries:
            self.todo.put(query)
        threads = [
            threading.Thread(target=self._work, name=f"afas-pages-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            yield from self._drain(threads)
        finally:
            # Also on an early close by the caller: workers stop at their next page.
            self.stop.set()
            for thread in threads:
                thread.join()

    def _drain(self, threads: list[threading.Thread]) -> Iterator[tuple[PageQuery, Page]]:
        while True:
            if self.error is not None:
                raise self.error
            try:
                item = self.out.get(timeout=self.POLL)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and self.out.empty():
                    if self.error is not None:
                        raise self.error from None
                    return
                continue
            yield item

    def _work(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    query = self.todo.get_nowait()
                except queue.Empty:
                    return
                self._page(query)
        except BaseException as error:  # handed to the consumer thread
            with self._error_lock:
                if self.error is None:
                    self.error = error
            self.stop.set()

    def _page(self, query: PageQuery) -> None:
        pages = self.client.iter_pages(
            query.connector_id,
            filter=query.filter,
            order_by=query.order_by,
            page_size=query.page_size,
            keyset=query.keyset,
        )
        try:
            for page in pages:
                if not self._put((query, page)):
                    return
        except AfasError as error:
            error.query_tag = query.tag  # which of the caller's queries failed
            raise

    def _put(self, item: tuple[PageQuery, Page]) -> bool:
        """Queue a page, waiting for room; False once the run is stopped."""
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=self.POLL)
                return True
            except queue.Full:
                continue
        return False
