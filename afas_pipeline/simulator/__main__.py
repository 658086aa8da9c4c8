"""`python -m afas_pipeline.simulator`: run the AFAS simulator on a local port.

The product CLI (`afas-pipeline simulator`) reuses `build_arg_parser()` and `main()`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from afas_pipeline.simulator.faults import FaultConfig

SCALES = {"small": 20_000, "medium": 100_000, "large": 1_000_000}
READY_MESSAGE = "AFAS simulator listening on {url}"
# The token to accept comes from the environment or a file, never the command line: every user
# of the machine can read a process's arguments (`ps`), only its owner its environment.
TOKEN_VARIABLE = "AFAS_SIMULATOR_TOKEN"

# Command-line flag → FaultConfig field, for the fault flags.
_FAULT_FLAGS: dict[str, tuple[type, str]] = {
    "latency_ms": (float, "added latency per request (ms)"),
    "latency_jitter_ms": (float, "random extra latency, 0..N ms"),
    "error_500_rate": (float, "probability of an HTTP 500 per request"),
    "error_503_rate": (float, "probability of an HTTP 503 (maintenance) per request"),
    "retry_after_seconds": (int, "Retry-After sent with a 503"),
    "burst_length": (int, "faults come in bursts of this many requests"),
    "drop_rate": (float, "probability of closing the connection without an answer"),
    "slow_page_rate": (float, "probability that a GetConnector page is slow"),
    "slow_page_ms": (float, "extra time for a slow page (ms)"),
    "booking_layout_locked_rate": (float, "probability that a FiEntries POST finds it locked"),
    "empty_page_rate": (float, "probability that a GetConnector page comes without rows"),
    "error_503_after_apply_rate": (float, "probability that a write is applied, then 503"),
    "slow_apply_ms": (float, "time a write takes before it is applied (ms)"),
    "fault_seed": (int, "seed of the fault RNG"),
}


def scale(value: str) -> int:
    """A preset name (small, medium, large) or a number of journal lines."""
    if value in SCALES:
        return SCALES[value]
    try:
        lines = int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(SCALES)} or a number of journal lines, got {value!r}"
        ) from None
    if lines <= 0:
        raise argparse.ArgumentTypeError("the number of journal lines must be positive")
    return lines


def _minute(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DDTHH:MM, got {value!r}") from None


def build_arg_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The simulator's options; pass a (sub)parser to add them to another command."""
    parser = parser or argparse.ArgumentParser(
        prog="python -m afas_pipeline.simulator",
        description="Run the AFAS Profit App Connector simulator.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS pick a free port")
    parser.add_argument("--seed", type=int, default=None, help="seed of the generated data")
    parser.add_argument(
        "--scale", type=scale, default=None, help="small, medium, large, or a line count"
    )
    parser.add_argument("--administrations", type=int, default=None)
    parser.add_argument("--now", type=_minute, default=None, help="start time YYYY-MM-DDTHH:MM")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument("--live-clock", dest="live_clock", action="store_true", default=None)
    clock.add_argument("--frozen-clock", dest="live_clock", action="store_false")
    parser.add_argument(
        "--token-file",
        default=None,
        help=f"a file holding the 64-hex token data to accept (or set {TOKEN_VARIABLE}; "
        "default: the token of AFAS's documentation)",
    )
    parser.add_argument(
        "--datetime-data-type",
        choices=("date", "datetime"),
        default=None,
        help="metainfo's dataType for datetime fields: date (as AFAS) or datetime (old answer)",
    )
    parser.add_argument(
        "--vat-amount-sign",
        choices=("unsigned", "own_side"),
        default=None,
        help="VatAmt as a positive amount (unsigned, default) or signed on the VAT code's side",
    )
    parser.add_argument(
        "--no-cost-carrier",
        dest="cost_carrier_field",
        action="store_false",
        default=None,
        help="serve DWH_Financiele_mutaties without its optional DimAx2 (cost carrier) field",
    )
    faults = parser.add_argument_group("fault injection")
    for name, (kind, text) in _FAULT_FLAGS.items():
        faults.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=text)
    faults.add_argument(
        "--fault-paths", nargs="*", default=(), help="limit faults to these path prefixes"
    )
    faults.add_argument("--fault-methods", nargs="*", default=(), help="limit faults to methods")
    return parser


def fault_config(args: argparse.Namespace) -> FaultConfig | None:
    """The FaultConfig the flags ask for, or None when no fault flag was given."""
    values = {
        ("seed" if name == "fault_seed" else name): getattr(args, name)
        for name in _FAULT_FLAGS
        if getattr(args, name) is not None
    }
    if not values and not args.fault_paths and not args.fault_methods:
        return None
    return FaultConfig(
        **values, only_paths=tuple(args.fault_paths), methods=tuple(args.fault_methods)
    )


def token_data(args: argparse.Namespace, environ: dict[str, str] | None = None) -> str | None:
    """The token data from `--token-file` or AFAS_SIMULATOR_TOKEN (None: the default token)."""
    env = os.environ if environ is None else environ
    if getattr(args, "token_file", None):
        try:
            text = Path(args.token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"cannot read the token file {args.token_file}: {exc}") from None
    else:
        text = env.get(TOKEN_VARIABLE, "")
    return text.strip().upper() or None


def simulator_config(args: argparse.Namespace) -> Any:
    """The SimulatorConfig for the flags; unset flags keep the config's defaults."""
    from afas_pipeline.simulator.environment import SimulatorConfig

    wanted = {
        "seed": args.seed,
        "journal_lines": args.scale,
        "administrations": args.administrations,
        "now": args.now,
        "live_clock": args.live_clock,
        "token_data": token_data(args),
        "datetime_data_type": args.datetime_data_type,
        "vat_amount_sign": args.vat_amount_sign,
        "cost_carrier_field": args.cost_carrier_field,
    }
    supported = {f.name for f in dataclasses.fields(SimulatorConfig)}
    values = {k: v for k, v in wanted.items() if v is not None}
    unsupported = sorted(set(values) - supported)
    if unsupported:
        raise SystemExit(f"this simulator does not support: {', '.join(unsupported)}")
    return SimulatorConfig(**values)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the environment, then serve it until interrupted."""
    return run_from_args(build_arg_parser().parse_args(argv))


def run_from_args(args: argparse.Namespace) -> int:
    """Serve the simulator described by parsed arguments (also `afas-pipeline simulator`)."""
    from afas_pipeline.simulator.environment import Environment
    from afas_pipeline.simulator.server import serve

    environment = Environment(simulator_config(args))

    def ready(url: str) -> None:
        # Exactly one line on stdout: SimulatorProcess and scripts wait for it. The token is
        # never printed: the README documents the default, and AFAS_SIMULATOR_TOKEN sets another.
        print(READY_MESSAGE.format(url=url), flush=True)
        print(json.dumps(environment.summary(), indent=2, default=str), file=sys.stderr, flush=True)

    serve(environment, host=args.host, port=args.port, faults=fault_config(args), ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
