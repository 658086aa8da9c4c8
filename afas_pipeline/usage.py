"""Errors the user of a command can fix; the command line prints them without a traceback."""

from __future__ import annotations


class RunRequestError(ValueError):
    """A run that cannot start as asked (a range outside the partitions, a DAGSTER_HOME that
    is not there): the message says what to do instead."""
