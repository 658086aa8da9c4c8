"""`afas-pipeline`: the product's command line.

simulator   run the embedded AFAS simulator
run         run the pipeline headless for a range of days (cron, CI)
reconcile   compare every record with AFAS and heal what differs, then rebuild the marts
demo        the whole pipeline against the simulator, then the Dagster UI
corrections list the proposed corrections and their state
writeback   approve corrections and post them to AFAS (a dry run unless --send)
connectors  list what the token may use (metainfo)
read        show the first rows of a GetConnector
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afas_pipeline.extract.days import amsterdam_today, parse_day
from afas_pipeline.settings import (
    ENVIRONMENTS_VARIABLE,
    PipelineSettings,
    data_dir_from_env,
    environment_names,
    environment_settings,
)
from afas_pipeline.usage import RunRequestError

if TYPE_CHECKING:
    from afas_pipeline.defs.scope import Scope

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except RunRequestError as error:  # what to fix, not a traceback
        print(f"afas-pipeline {args.command}: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from afas_pipeline.simulator.__main__ import build_arg_parser
    from afas_pipeline.writeback.__main__ import add_arguments as add_writeback_arguments

    parser = argparse.ArgumentParser(prog="afas-pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    simulator = commands.add_parser("simulator", help="run the embedded AFAS simulator")
    build_arg_parser(simulator)
    simulator.set_defaults(handler=_simulator)

    run = commands.add_parser("run", help="run every asset for a range of days, without the UI")
    run.add_argument("--start", type=_day, required=True, help="first day, YYYY-MM-DD")
    run.add_argument("--end", type=_day, required=True, help="last day (inclusive), YYYY-MM-DD")
    run.add_argument(
        "--verbose", action="store_true", help="print Dagster's event log and dbt's output too"
    )
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="run the dbt build even if nothing changed, from scratch (--full-refresh)",
    )
    _add_environment_argument(run)
    run.set_defaults(handler=_run)

    reconcile = commands.add_parser(
        "reconcile", help="compare every record with AFAS, heal what differs, rebuild the marts"
    )
    reconcile.add_argument(
        "--verbose", action="store_true", help="print Dagster's event log and dbt's output too"
    )
    reconcile.add_argument(
        "--accept-mass-deletions",
        action="store_true",
        help="flag the deletions found even if they are an implausible share (AFAS really "
        "deleted them)",
    )
    _add_environment_argument(reconcile)
    reconcile.set_defaults(handler=_reconcile)

    demo = commands.add_parser("demo", help="the pipeline against the simulator, then the UI")
    demo.add_argument("--port", type=int, default=3000, help="port of the Dagster UI")
    demo.add_argument("--scale", default="small", help="simulator size (small, medium, large)")
    demo.add_argument("--no-ui", action="store_true", help="stop after the headless run")
    demo.add_argument("--verbose", action="store_true", help="print dbt's output too")
    demo.set_defaults(handler=_demo)

    corrections = commands.add_parser(
        "corrections", help="list the proposed corrections, who approved them and their state"
    )
    corrections.add_argument("--data-dir", type=Path, default=data_dir_from_env())
    corrections.set_defaults(handler=_corrections)

    writeback = commands.add_parser(
        "writeback",
        help="approve corrections and post them to AFAS as FiEntries (a dry run unless --send)",
        description="Prints a line per step, then a JSON summary. Exit code 1 when a "
        "correction is rejected (or would be), fails, or the run cannot start.",
    )
    add_writeback_arguments(writeback)
    writeback.set_defaults(handler=_writeback)

    prepare = commands.add_parser("prepare", help="parse the dbt project (part of the set-up)")
    prepare.set_defaults(handler=_prepare)

    connectors = commands.add_parser("connectors", help="list the connectors the token may use")
    connectors.set_defaults(handler=_connectors)

    read = commands.add_parser("read", help="show the first rows of a GetConnector")
    read.add_argument("connector")
    read.add_argument("--limit", type=int, default=10)
    read.set_defaults(handler=_read)
    return parser


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _simulator(args: argparse.Namespace) -> int:
    from afas_pipeline.simulator.__main__ import run_from_args

    return run_from_args(args)


def _needs_dbt(handler: Handler) -> Handler:
    """A command that loads the dbt assets: a project dbt cannot parse is one clear message
    (with dbt's answer), not a traceback. Imported here: other commands stay quick to start."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from afas_pipeline.dbt_build import DbtProjectNotPreparedError

        try:
            return handler(args)
        except DbtProjectNotPreparedError as exc:
            print(f"afas-pipeline: {exc}", file=sys.stderr)
            return 1

    return run


def _add_environment_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--environment",
        metavar="NAME",
        help=f"the environment to run, one of {ENVIRONMENTS_VARIABLE} (required when it is set)",
    )


def _environment(args: argparse.Namespace) -> tuple[PipelineSettings, Scope]:
    """The settings and names of the environment a command runs: the one --environment names
    among AFAS_ENVIRONMENTS (its variables ACME__…, its jobs and asset keys), else the single
    environment of the unprefixed variables."""
    from afas_pipeline.defs.scope import SINGLE, Scope  # Dagster: not for the other commands

    names, name = environment_names(), args.environment
    if not names:
        if name:
            raise RunRequestError(f"--environment {name}: {ENVIRONMENTS_VARIABLE} is not set")
        return PipelineSettings.from_env(), SINGLE
    listed = ", ".join(names)
    if not name:
        raise RunRequestError(
            f"{ENVIRONMENTS_VARIABLE} names {listed}: say which to run with --environment"
        )
    if name not in names:
        raise RunRequestError(
            f"--environment {name} is not one of {ENVIRONMENTS_VARIABLE} ({listed})"
        )
    return environment_settings(name), Scope(name)


@_needs_dbt
def _run(args: argparse.Namespace) -> int:
    from afas_pipeline.runner import command_instance, quiet_dbt_output, run_headless

    settings, scope = _environment(args)
    log_level = "DEBUG" if args.verbose else "WARNING"
    dbt_output = None if args.verbose else quiet_dbt_output(settings)
    with command_instance() as instance:
        results = run_headless(
            args.start,
            args.end,
            instance=instance,
            log_level=log_level,
            rebuild=args.rebuild,
            dbt_output=dbt_output,
            settings=settings,
            scope=scope,
        )
        return _report(results, f"{args.start}..{args.end}", dbt_output)


@_needs_dbt
def _reconcile(args: argparse.Namespace) -> int:
    from afas_pipeline.runner import command_instance, quiet_dbt_output, run_reconciliation

    settings, scope = _environment(args)
    log_level = "DEBUG" if args.verbose else "WARNING"
    dbt_output = None if args.verbose else quiet_dbt_output(settings)
    with command_instance() as instance:
        results = run_reconciliation(
            instance=instance,
            log_level=log_level,
            accept_mass_deletions=args.accept_mass_deletions,
            dbt_output=dbt_output,
            settings=settings,
            scope=scope,
        )
        return _report(results, "full reconciliation", dbt_output)


def _report(results: Sequence[Any], what: str, dbt_output: Path | None) -> int:
    """Print what the runs did; exit code 1 if one failed or a blocking check failed."""
    from afas_pipeline.runner import succeeded, summary_lines

    for line in summary_lines(*results):
        print(line, file=sys.stderr if line.startswith("FAILED") else sys.stdout)
    success = all(succeeded(result) for result in results)
    if not success and dbt_output is not None and dbt_output.exists():
        print(f"dbt's output: {dbt_output}", file=sys.stderr)
    runs = ", ".join(result.run_id for result in results)
    print(f"run {runs} {'succeeded' if success else 'FAILED'}: {what}")
    return 0 if success else 1


@_needs_dbt
def _demo(args: argparse.Namespace) -> int:
    from afas_pipeline.demo import run_demo

    return run_demo(port=args.port, scale=args.scale, ui=not args.no_ui, verbose=args.verbose)


def _writeback(args: argparse.Namespace) -> int:
    from afas_pipeline.writeback.__main__ import run_from_args

    return run_from_args(args)


def _corrections(args: argparse.Namespace) -> int:
    """One line per proposed correction: what an approver needs to choose, without SQL."""
    from pathlib import Path

    from afas_pipeline.writeback.corrections import CorrectionsUnavailableError, read_corrections
    from afas_pipeline.writeback.outbox import Outbox

    data_dir = Path(args.data_dir)
    try:
        proposed = read_corrections(data_dir)
    except CorrectionsUnavailableError as exc:
        print(f"corrections: {exc}", file=sys.stderr)
        return 1
    outbox = Outbox(data_dir)
    rows = {r["correction_id"]: r for r in outbox.table()} if outbox.path.exists() else {}
    lines: list[tuple[str, ...]] = [
        ("correction", "admin", "amount", "approved by", "state", "reason")
    ]
    for c in proposed:
        row = rows.get(c.correction_id, {})
        approved_by = row.get("approved_by") or ""
        if approved_by and row.get("approved_hash") != c.content_hash:
            approved_by = f"({approved_by}, before it changed)"  # needs approving again
        state = row.get("state") or "new"  # in the outbox once a write-back run has seen it
        amount = format(c.total_debit, "f")
        lines.append(
            (c.correction_id, str(c.administration_id), amount, approved_by, state, c.reason or "")
        )
    _print_columns(lines, right_aligned={1, 2})
    approve = "afas-pipeline writeback --approve ID... --approved-by NAME"
    print(f"{len(proposed)} proposed; approve with `{approve}` (add --send to post)")
    return 0


def _print_columns(lines: list[tuple[str, ...]], *, right_aligned: set[int]) -> None:
    """Aligned columns; the last one (free text) as it is."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
    for line in lines:
        cells = [
            cell.rjust(width) if i in right_aligned else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line[:-1], widths, strict=True))
        ]
        print("  ".join([*cells, line[-1]]).rstrip())


def _prepare(args: argparse.Namespace) -> int:
    from afas_pipeline.dbt_build import parse_dbt_project

    return parse_dbt_project().returncode


def _settings() -> Any:
    """The AFAS_* settings; a missing or wrong one is the user's to fix (no traceback)."""
    from afas_pipeline.afas import AfasConfigError, AfasSettings

    try:
        return AfasSettings.from_env()
    except AfasConfigError as error:
        raise RunRequestError(str(error)) from None


def _connectors(args: argparse.Namespace) -> int:
    from afas_pipeline.afas import AfasClient

    with AfasClient(_settings()) as client:
        listing = client.list_connectors()
    for connector_id, description in listing.get_connectors:
        print(f"get     {connector_id:40} {description}")
    for connector_id, description in listing.update_connectors:
        print(f"update  {connector_id:40} {description}")
    return 0


def _read(args: argparse.Namespace) -> int:
    import polars as pl

    from afas_pipeline.extract.specs import contract_client

    # The contract's connectors are typed and ordered by the contract; any other by its values.
    with contract_client(_settings()) as client:
        pages = client.iter_pages(args.connector, page_size=args.limit, order_by=None)
        frame = next(pages).frame
    with pl.Config(tbl_rows=args.limit, tbl_cols=-1, fmt_str_lengths=30):
        print(frame.head(args.limit))
    return 0


def today() -> date:
    return amsterdam_today()


if __name__ == "__main__":  # pragma: no cover
    os._exit(main())
