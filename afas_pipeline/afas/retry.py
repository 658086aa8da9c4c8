"""Bounded retries with exponential back-off and full jitter.

What is retried follows AFAS's advice (afas-api.md §6): 503 maintenance and some 500s yes, 401/403
never. Writes are retried only when AFAS cannot have applied them (a refused connection, a
locked booking layout): a POST that may have reached AFAS is never repeated, because a journal
entry would be booked twice; the client reports a 503, a 502/504 or a connection lost after
sending a write as ambiguous instead (`AfasAmbiguousWriteError`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from afas_pipeline.afas.errors import (
    AfasBookingLayoutLockedError,
    AfasError,
    AfasMaintenanceError,
    AfasTransientError,
)

T = TypeVar("T")
logger = logging.getLogger("afas_pipeline.afas")

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_retryable(error: AfasError, method: str) -> bool:
    """Whether `error` on a request with `method` may be retried safely."""
    if isinstance(error, AfasMaintenanceError | AfasBookingLayoutLockedError):
        return True
    if isinstance(error, AfasTransientError):
        # A write is only safe to repeat when it never left this machine.
        return method.upper() in _READ_METHODS or error.before_send
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; `sleep`, `clock` and `random` are injectable for tests."""

    max_attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    total_timeout: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.total_timeout <= 0:
            raise ValueError("RetryPolicy back-offs must be >= 0 and total_timeout > 0")

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay after the given (1-based) failed attempt."""
        cap = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        return self.random() * cap

    def call(
        self,
        fn: Callable[[], T],
        *,
        method: str,
        on_retry: Callable[[AfasError], None] | None = None,
    ) -> T:
        """Run `fn`, retrying retryable AFAS errors within the attempt and time budget."""
        start = self.clock()
        attempt = 1
        while True:
            try:
                return fn()
            except AfasError as error:
                delay = self._delay_or_raise(error, method, attempt, start)
                logger.warning(
                    "AFAS request failed (attempt %d of %d), retrying in %.1f s: %s",
                    attempt,
                    self.max_attempts,
                    delay,
                    error,
                )
                if on_retry is not None:
                    on_retry(error)
                self.sleep(delay)
                attempt += 1

    def _delay_or_raise(self, error: AfasError, method: str, attempt: int, start: float) -> float:
        """The pause before the next attempt, or re-raise `error` when we must give up."""
        error.attempts = attempt
        if not is_retryable(error, method) or attempt >= self.max_attempts:
            raise error
        remaining = self.total_timeout - (self.clock() - start)
        delay = self.backoff(attempt)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # AFAS says when to come back; earlier attempts would only fail again.
            delay = max(delay, float(retry_after))
            if retry_after > remaining:
                raise error
        if delay > remaining:
            raise error
        return delay
