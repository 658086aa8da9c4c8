"""Fault injection: 503 maintenance, 500 bursts, drops, latency, the booking-layout lock, empty
pages, writes applied then answered 503 or applied slowly, and writes whose client left."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from afas_pipeline.simulator.app import create_app
from afas_pipeline.simulator.faults import (
    MAINTENANCE_MESSAGE,
    ConnectionDropped,
    FaultConfig,
    FaultInjector,
)
from afas_pipeline.simulator.server import ServerThread
from tests.simulator.test_app import BASE, FakeEnvironment, TestClient, fi_entry, token_header

PAGE = f"{BASE}/connectors/Profit_Administrations"


def client_with(faults: FaultConfig) -> TestClient:
    return TestClient(create_app(FakeEnvironment(), faults), headers=token_header())


@pytest.fixture
def always_503() -> Iterator[TestClient]:
    with client_with(FaultConfig(error_503_rate=1.0, retry_after_seconds=7200)) as client:
        yield client


def test_config_defaults_are_off_and_round_trip_through_json() -> None:
    config = FaultConfig()
    assert config.error_500_rate == config.drop_rate == config.latency_ms == 0
    custom = FaultConfig(error_500_rate=0.5, methods=("get",), only_paths=("/connectors",))
    assert FaultConfig.from_json(custom.to_json()) == custom
    assert custom.methods == ("GET",)
    with pytest.raises(ValueError, match="unknown fault setting"):
        FaultConfig.from_dict({"error_rate": 1})
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultConfig(drop_rate=2)


def test_503_has_retry_after_header_and_body(always_503: TestClient) -> None:
    response = always_503.get(PAGE)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7200"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "error": {"code": "503", "message": MAINTENANCE_MESSAGE},
        "retry_after": 7200,
    }
    # CORS and proxy headers are on fault answers too.
    assert "x-afas-proxy-version" in response.headers


def test_admin_endpoints_never_get_faults(always_503: TestClient) -> None:
    assert always_503.get(f"{BASE}/_simulator/state").status_code == 200
    assert always_503.get(f"{BASE}/_simulator/requests").json()["total"] == 0


def test_500_bursts() -> None:
    config = FaultConfig(error_500_rate=0.2, burst_length=3, seed=7)
    with client_with(config) as client:
        responses = [client.get(PAGE) for _ in range(60)]
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 500}
    # Every run of 500s is a whole number of bursts of three (the last one may be cut off).
    runs = "".join("x" if s == 500 else "." for s in statuses).split(".")[:-1]
    assert all(len(run) % 3 == 0 for run in runs if run)
    body = next(r for r in responses if r.status_code == 500).json()
    assert body["externalMessage"] == "An unexpected error has occurred."
    assert body["errorNumber"] == -2147180999


def test_faults_are_deterministic_with_a_seed() -> None:
    def sequence(seed: int) -> list[int]:
        with client_with(FaultConfig(error_500_rate=0.3, error_503_rate=0.2, seed=seed)) as c:
            return [c.get(PAGE).status_code for _ in range(40)]

    assert sequence(1) == sequence(1)
    assert sequence(1) != sequence(2)


def test_booking_layout_lock_only_on_post_fi_entries() -> None:
    with client_with(FaultConfig(booking_layout_locked_rate=1.0)) as client:
        assert client.get(PAGE).status_code == 200
        response = client.post(f"{BASE}/connectors/FiEntries", json=fi_entry())
    assert response.status_code == 500
    assert response.json()["externalMessage"] == (
        "The booking layout is blocked by another user. Try again later."
    )


def test_only_paths_and_methods_limit_faults() -> None:
    config = FaultConfig(error_500_rate=1.0, only_paths=("/connectors",), methods=("GET",))
    with client_with(config) as client:
        assert client.get(PAGE).status_code == 500
        assert client.get(f"{BASE}/metainfo").status_code == 200
        assert client.post(f"{BASE}/connectors/FiEntries", json=fi_entry()).status_code == 201


def test_latency_and_slow_pages() -> None:
    with client_with(FaultConfig(latency_ms=150)) as client:
        started = time.perf_counter()
        client.get(f"{BASE}/ProfitVersion")
        assert time.perf_counter() - started >= 0.15
    with client_with(FaultConfig(slow_page_rate=1.0, slow_page_ms=200)) as client:
        started = time.perf_counter()
        client.get(f"{BASE}/ProfitVersion")
        assert time.perf_counter() - started < 0.2
        started = time.perf_counter()
        client.get(PAGE)
        assert time.perf_counter() - started >= 0.2


def test_in_process_drop_raises() -> None:
    with (
        TestClient(
            create_app(FakeEnvironment(), FaultConfig(drop_rate=1.0)), headers=token_header()
        ) as client,
        pytest.raises(ConnectionDropped),
    ):
        client.get(PAGE)


def test_faults_can_be_changed_at_run_time(always_503: TestClient) -> None:
    response = always_503.put(f"{BASE}/_simulator/faults", content=json.dumps({"latency_ms": 1}))
    assert response.status_code == 200
    assert always_503.get(f"{BASE}/_simulator/faults").json()["error_503_rate"] == 0
    assert always_503.get(PAGE).status_code == 200
    bad = always_503.put(f"{BASE}/_simulator/faults", json={"nope": 1})
    assert bad.status_code == 400
    assert "nope" in bad.json()["message"]


def test_faulted_requests_are_counted(always_503: TestClient) -> None:
    always_503.get(PAGE)
    counts = always_503.get(f"{BASE}/_simulator/requests").json()
    assert counts["by_status"] == {"503": 1}


def test_injector_bursts_continue_only_on_eligible_requests() -> None:
    injector = FaultInjector(FaultConfig(booking_layout_locked_rate=1.0, burst_length=2))
    assert injector.decide("POST", "/connectors/FiEntries").fault == "locked"
    assert injector.decide("GET", "/connectors/FiEntries").fault is None
    assert injector.decide("POST", "/connectors/FiEntries").fault == "locked"


def test_a_write_applied_then_answered_503() -> None:
    environment = FakeEnvironment()
    config = FaultConfig(error_503_after_apply_rate=1.0, retry_after_seconds=5)
    with TestClient(create_app(environment, config), headers=token_header()) as client:
        response = client.post(f"{BASE}/connectors/FiEntries", json=fi_entry())
        assert client.get(PAGE).status_code == 200  # reads are not affected
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert len(environment.posted) == 1  # booked all the same


def test_a_slow_apply_delays_writes_only() -> None:
    with client_with(FaultConfig(slow_apply_ms=200)) as client:
        started = time.perf_counter()
        client.get(PAGE)
        assert time.perf_counter() - started < 0.2
        started = time.perf_counter()
        assert client.post(f"{BASE}/connectors/FiEntries", json=fi_entry()).status_code == 201
        assert time.perf_counter() - started >= 0.2


def test_an_empty_page_is_a_200_without_rows() -> None:
    with client_with(FaultConfig(empty_page_rate=1.0)) as client:
        response = client.get(PAGE, params={"skip": 0, "take": 10})
        version = client.get(f"{BASE}/ProfitVersion")
    assert response.status_code == 200
    assert response.json() == {"skip": 0, "take": 10, "rows": []}
    assert version.json()["version"]  # only GetConnector pages


def test_a_write_whose_client_disconnected_is_applied_as_afas_does() -> None:
    """The client sends a POST and is gone (killed) while AFAS is still busy: AFAS books it.
    The simulator used to drop it, so the crash tests could not see this case."""
    environment = FakeEnvironment()
    with ServerThread(environment, faults=FaultConfig(slow_apply_ms=300)) as server:
        url = httpx.URL(server.base_url)
        body = json.dumps(fi_entry()).encode()
        head = (
            f"POST {url.path}/connectors/FiEntries HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Authorization: {token_header()['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection((url.host, url.port)) as sock:
            sock.sendall(head.encode() + body)
        deadline = time.monotonic() + 5
        while not environment.posted and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(environment.posted) == 1
