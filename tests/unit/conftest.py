"""Fixtures of the unit tests: a fresh PostgreSQL database for the ledger's second backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ledger.pgserver import shared_server


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty database on the session's test server (skips without one)."""
    server = shared_server()
    url = server.create_database()
    yield url
    server.drop_database(url)
