from __future__ import annotations

import pytest

from afas_pipeline.afas import (
    AfasAuthenticationError,
    AfasBookingLayoutLockedError,
    AfasError,
    AfasMaintenanceError,
    AfasTransientError,
    AfasValidationError,
    RetryPolicy,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(clock: FakeTime, **kwargs: float) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock.clock, random=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


def failing(errors: list[AfasError]) -> object:
    def fn() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn


def test_backoff_is_exponential_and_capped() -> None:
    fake = FakeTime()
    result = policy(fake, max_backoff=2.0).call(
        failing([AfasTransientError("x") for _ in range(5)]), method="GET"
    )
    assert result == "ok"
    assert fake.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_gives_up_after_max_attempts_with_count() -> None:
    fake = FakeTime()
    with pytest.raises(AfasTransientError, match="gave up after 6 attempts"):
        policy(fake).call(failing([AfasTransientError("x") for _ in range(9)]), method="GET")
    assert len(fake.sleeps) == 5


def test_retry_after_is_honoured() -> None:
    fake = FakeTime()
    errors: list[AfasError] = [AfasMaintenanceError("m", retry_after=20)]
    assert policy(fake).call(failing(errors), method="GET") == "ok"
    assert fake.sleeps == [20]


def test_retry_after_beyond_budget_gives_up_at_once() -> None:
    fake = FakeTime()
    with pytest.raises(AfasMaintenanceError) as info:
        policy(fake).call(failing([AfasMaintenanceError("m", retry_after=7200)]), method="GET")
    assert info.value.retry_after == 7200
    assert fake.sleeps == []


def test_total_budget_bounds_the_time() -> None:
    fake = FakeTime()
    with pytest.raises(AfasTransientError):
        policy(fake, total_timeout=3.0, max_attempts=100).call(
            failing([AfasTransientError("x") for _ in range(100)]), method="GET"
        )
    assert sum(fake.sleeps) <= 3.0


@pytest.mark.parametrize(
    "error", [AfasAuthenticationError("no"), AfasValidationError("bad"), AfasError("x")]
)
def test_never_retried(error: AfasError) -> None:
    fake = FakeTime()
    with pytest.raises(type(error)):
        policy(fake).call(failing([error]), method="GET")
    assert fake.sleeps == []


def test_writes_retry_only_safe_errors() -> None:
    fake = FakeTime()
    with pytest.raises(AfasTransientError):
        policy(fake).call(failing([AfasTransientError("sent")]), method="POST")
    errors: list[AfasError] = [
        AfasTransientError("not sent", before_send=True),
        AfasMaintenanceError("m"),
        AfasBookingLayoutLockedError("locked"),
    ]
    assert policy(fake).call(failing(errors), method="POST") == "ok"
