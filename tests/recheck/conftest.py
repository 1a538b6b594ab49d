"""The recheck tests use the registry tests' real docker-registry and the ledger tests' PostgreSQL."""

from tests.ledger.conftest import pg_server, pg_url
from tests.registry.conftest import distribution

__all__ = ["distribution", "pg_server", "pg_url"]
