"""Fixtures of the ledger backend tests: a fresh PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ledger.pgserver import PgServer, shared_server


@pytest.fixture
def pg_server() -> PgServer:
    """The session's test server (skips, with the reason, without one)."""
    return shared_server()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database on the test server."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
