"""The simulator over a real loopback socket: in a thread, and as a child process."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from afas_pipeline.simulator.__main__ import (
    build_arg_parser,
    fault_config,
    simulator_config,
    token_data,
)
from afas_pipeline.simulator.environment import SimulatorConfig
from afas_pipeline.simulator.faults import FaultConfig
from afas_pipeline.simulator.process import SimulatorProcess, SimulatorStartError
from afas_pipeline.simulator.server import ServerThread
from tests.simulator.test_app import MUTATIONS, FakeEnvironment, token_header


@pytest.fixture
def environment() -> FakeEnvironment:
    return FakeEnvironment()


@pytest.fixture
def server(environment: FakeEnvironment) -> Iterator[ServerThread]:
    with ServerThread(environment) as running:
        yield running


def test_base_url_has_the_bound_port(server: ServerThread) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/ProfitRestServices")
    assert not server.base_url.startswith("http://127.0.0.1:0/")


def test_pages_over_a_socket(server: ServerThread, environment: FakeEnvironment) -> None:
    with httpx.Client(base_url=server.base_url, headers=token_header(), timeout=10) as client:
        response = client.get(f"/connectors/{MUTATIONS}", params={"skip": -1, "take": -1})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        rows = json.loads(response.text, parse_float=Decimal)["rows"]
        expected = environment.rows(MUTATIONS)
        assert [r["AmtDebit"] for r in rows] == expected["AmtDebit"].to_list()
        assert "2025-03-30T02:15:00Z" in response.text
        # Lower-case base path, as the Go, PHP and C# clients write it.
        lower = server.base_url.replace("/ProfitRestServices", "/profitrestservices")
        assert client.get(f"{lower}/metainfo").status_code == 200


def test_auth_and_long_query_over_a_socket(server: ServerThread) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        denied = client.get(f"/connectors/{MUTATIONS}")
        assert (denied.status_code, denied.content) == (401, b"")
        assert denied.headers["content-type"] == "application/xml; charset=utf-8"
        long = client.get(f"/connectors/{MUTATIONS}", params={"x": "y" * 2100})
        assert long.status_code == 404


def test_dropped_connection_is_a_transport_error(environment: FakeEnvironment) -> None:
    faults = FaultConfig(drop_rate=1.0, only_paths=("/connectors",))
    with (
        ServerThread(environment, faults=faults) as server,
        httpx.Client(base_url=server.base_url, headers=token_header(), timeout=5) as client,
    ):
        # The connection is usable before, and the server keeps serving after the drop.
        assert client.get("/ProfitVersion").status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.get(f"/connectors/{MUTATIONS}")
        assert client.get("/ProfitVersion").status_code == 200
        counts = client.get("/_simulator/requests").json()
        assert counts["by_status"] == {"200": 2, "dropped": 1}


def test_server_thread_stops(environment: FakeEnvironment) -> None:
    server = ServerThread(environment).start()
    url = server.base_url
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/ProfitVersion", timeout=2)


def test_command_line_options() -> None:
    args = build_arg_parser().parse_args(
        ["--scale", "medium", "--now", "2025-11-20T12:00", "--frozen-clock", "--latency-ms", "5"]
    )
    assert args.scale == 100_000
    assert args.now == datetime(2025, 11, 20, 12, 0)
    assert args.live_clock is False
    assert fault_config(args) == FaultConfig(latency_ms=5.0)
    assert build_arg_parser().parse_args(["--scale", "3000"]).scale == 3000
    assert fault_config(build_arg_parser().parse_args([])) is None
    with pytest.raises(SystemExit):
        build_arg_parser().parse_args(["--scale", "huge"])


def test_vat_amount_sign_option() -> None:
    parse = build_arg_parser().parse_args
    assert simulator_config(parse([])).vat_amount_sign == "unsigned"
    assert simulator_config(parse(["--vat-amount-sign", "own_side"])).vat_amount_sign == "own_side"
    with pytest.raises(SystemExit):
        parse(["--vat-amount-sign", "negative"])
    with pytest.raises(ValueError, match="vat_amount_sign"):
        SimulatorConfig(vat_amount_sign="negative")


def test_cost_carrier_option() -> None:
    parse = build_arg_parser().parse_args
    assert simulator_config(parse([])).cost_carrier_field is True
    assert simulator_config(parse(["--no-cost-carrier"])).cost_carrier_field is False


def test_simulator_process_serves_and_stops() -> None:
    args = ["--scale", "3000", "--now", "2025-11-20T12:00", "--error-503-rate", "0"]
    with SimulatorProcess(args, startup_timeout=60) as simulator:
        assert simulator.base_url.startswith("http://127.0.0.1:")
        headers = token_header(simulator.token_data)
        with httpx.Client(base_url=simulator.base_url, headers=headers, timeout=10) as client:
            body = client.get(f"/connectors/{MUTATIONS}", params={"take": 5}).json()
            assert (body["skip"], body["take"], len(body["rows"])) == (0, 5, 5)
            state = client.get("/_simulator/state").json()
            assert state["environment"]["now"] == "2025-11-20T12:00:00"
        # The summary goes to stderr, but never the token; nor is it on the command line,
        # which every user of the machine sees in `ps`.
        assert '"seed": 42' in simulator.stderr_text()
        assert simulator.token_data not in simulator.stderr_text()
        pid = simulator.pid
        assert pid is not None
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"--scale" in command_line
        assert simulator.token_data.encode() not in command_line.upper()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    args = build_arg_parser().parse_args([])
    assert token_data(args, {}) is None  # the documented default
    assert token_data(args, {"AFAS_SIMULATOR_TOKEN": " ab" + "c" * 62 + " "}) == "AB" + "C" * 62
    secret = tmp_path / "token"
    secret.write_text("d" * 64 + "\n")
    from_file = build_arg_parser().parse_args(["--token-file", str(secret)])
    assert token_data(from_file, {"AFAS_SIMULATOR_TOKEN": "E" * 64}) == "D" * 64
    with pytest.raises(SystemExit, match="cannot read the token file"):
        token_data(build_arg_parser().parse_args(["--token-file", str(tmp_path / "no")]), {})


def test_simulator_process_reports_a_failed_start() -> None:
    with pytest.raises(SimulatorStartError, match="administrations"):
        SimulatorProcess(["--administrations", "-5"], startup_timeout=60).start()
