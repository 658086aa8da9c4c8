"""The partitions of the change-tracked connectors: a day of Mutatie_datum, Amsterdam time."""

from __future__ import annotations

from datetime import date

import dagster as dg

from afas_pipeline.extract.days import AMSTERDAM


def daily_partitions(start_date: date) -> dg.DailyPartitionsDefinition:
    """The days from `start_date` to today; `end_offset=1` makes today a partition too."""
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone=str(AMSTERDAM), end_offset=1
    )
