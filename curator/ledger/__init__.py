"""The ledger: reviews, stage results and a hash-chained, append-only event log.

Two backends with one behaviour: SQLite in the workspace (the default, embedded) and
PostgreSQL for a team sharing one inventory. ``open_ledger`` picks one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from curator.core.errors import UsageError
from curator.ledger.audit import LedgerHead
from curator.ledger.base import LedgerBase
from curator.ledger.chain import ChainReport
from curator.ledger.sqlite import Ledger

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.core.workspace import Workspace

__all__ = ["LEDGER_URL_ENV", "ChainReport", "Ledger", "LedgerBase", "LedgerHead", "ledger_url", "open_ledger"]

#: a ``postgresql://`` URL here puts the ledger on that server; it overrides ``ledger.url``
LEDGER_URL_ENV = "CURATOR_LEDGER_URL"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def ledger_url(policy: Policy | None = None) -> str:
    """The configured team ledger URL: ``$CURATOR_LEDGER_URL``, else ``ledger.url`` in the
    policy (which must not carry a password: it is checked in), else "" for SQLite."""
    env = os.environ.get(LEDGER_URL_ENV, "").strip()
    if env:
        _check_scheme(env, f"${LEDGER_URL_ENV}")
        return env
    if policy is None:
        from curator.core.policy import Policy

        policy = Policy.load()
    url = policy.section("ledger").get("url") or ""
    if not isinstance(url, str):
        raise UsageError("checklist setting ledger.url must be a string", "fix default.yaml")
    url = url.strip()
    if url:
        _check_scheme(url, "ledger.url in default.yaml")
        if urlsplit(url).password:
            raise UsageError("ledger.url in default.yaml carries a password",
                             "remove it and give it through PGPASSWORD or ~/.pgpass")
    return url


def _check_scheme(url: str, where: str) -> None:
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        shown = url.split("://", 1)[0] + "://..." if "://" in url else url
        raise UsageError(f"{where} ({shown}) is not a postgresql:// URL",
                         "use postgresql://USER@HOST[:PORT]/DATABASE, or unset it for the "
                         "workspace's SQLite ledger")


def open_ledger(workspace: Workspace, policy: Policy | None = None) -> LedgerBase:
    """The ledger this curator is configured for: PostgreSQL when a ``postgresql://`` URL is
    set (``$CURATOR_LEDGER_URL`` or ``ledger.url``), else SQLite at ``workspace.ledger_path``."""
    url = ledger_url(policy)
    if not url:
        return Ledger(workspace.ledger_path)
    # only a team ledger pays for importing its driver
    from curator.ledger.postgres import PostgresLedger

    return PostgresLedger(url)
