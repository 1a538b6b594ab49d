"""Appends per second on each backend, one writer and two writers on separate connections.

PostgreSQL here runs with its default durability (fsync and synchronous_commit on), like
SQLite's WAL with its default synchronous=FULL: every append is on disk when it returns.
Run with ``-s`` to see the figures; the floor only catches a backend gone pathologically slow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from curator.ledger import Ledger, LedgerBase
from curator.ledger.postgres import PostgresLedger
from tests.ledger.pgserver import PgServer, start_server
from tests.needs import missing

APPENDS = 400
FLOOR_PER_SECOND = 20

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def durable_server() -> Iterator[PgServer]:
    try:
        server = start_server(fsync=True)
    except (OSError, RuntimeError) as exc:
        missing(f"a PostgreSQL server for the append-rate figures ({exc})", "run 'make sysdeps'")
    yield server
    server.stop()


def _rate(open_ledger: Callable[[], LedgerBase], writers: int) -> float:
    ledgers = [open_ledger() for _ in range(writers)]
    per_writer = APPENDS // writers

    def write(led: LedgerBase, tag: int) -> None:
        for i in range(per_writer):
            led.append("quarterly_run", {"run_id": f"{tag}-{i}", "date": "x" * 200})

    threads = [threading.Thread(target=write, args=(led, n)) for n, led in enumerate(ledgers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    report = ledgers[0].verify()
    for led in ledgers:
        led.close()
    assert report.ok and report.rows == per_writer * writers
    return per_writer * writers / elapsed


@pytest.mark.parametrize("writers", [1, 2])
def test_append_rate(writers: int, tmp_path: Path, durable_server: PgServer) -> None:
    url = durable_server.create_database()
    rates = {"sqlite": _rate(lambda: Ledger(tmp_path / "ledger.db"), writers),
             "postgres": _rate(lambda: PostgresLedger(url), writers)}
    durable_server.drop_database(url)
    print(f"\nappends/s with {writers} writer(s): "
          + ", ".join(f"{name} {rate:.0f}" for name, rate in rates.items()))
    assert min(rates.values()) > FLOOR_PER_SECOND
