"""Timestamps as the ledger, decisions and reports write them: RFC 3339 UTC, seconds precision."""

from __future__ import annotations

import datetime as dt


def utc_now() -> str:
    """RFC 3339 UTC time, seconds precision: the decision's timestamp."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso(epoch: float | None) -> str | None:
    """Seconds since the epoch as RFC 3339 UTC (seconds precision)."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
