"""Building blocks of the re-check attacks: the team's curators, and an attacker who edits a
ledger behind curator's back and re-chains it so that the hash chain alone cannot tell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curator.attest.keys import FileSigner
from curator.ledger.chain import GENESIS, row_hash

#: runs one SQL statement (``?`` placeholders) on a connection of the attacker's own, returning rows
Raw = Callable[..., list[tuple[Any, ...]]]


def team_curator(checklists: Path, folder: Path, name: str, email: str) -> FileSigner:
    """A curator key listed in the team's ``checklists/curators.yaml`` and signed into the team's
    root (the workspace registry's signed state), as a team adds a curator."""
    import os

    from curator.core.workspace import Workspace
    from tests.decision.helpers import curator

    return curator(Workspace.open(os.environ["CURATOR_HOME"]), folder, name, email, checklists)


def sqlite_raw(path: Path) -> Raw:
    import sqlite3

    def raw(sql: str, *args: object) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(path)
        try:
            rows = db.execute(sql, args).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    return raw


def postgres_raw(url: str) -> Raw:
    import psycopg

    def raw(sql: str, *args: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as db:
            cur = db.execute(sql.replace("?", "%s"), args or None)
            return cur.fetchall() if cur.description else []

    return raw


def rechain(raw: Raw, edit: Callable[[int, str, dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Recompute every row's hash (after ``edit(seq, kind, payload)`` changed some payloads) and
    the head the ledger keeps: a fully consistent chain, as an attacker with the database makes."""
    prev = GENESIS
    for seq, when, kind, review_id, payload in raw(
            "SELECT seq, time, kind, review_id, payload FROM events ORDER BY seq"):
        data = json.loads(payload)
        if edit is not None:
            data = edit(seq, kind, data)
        digest = row_hash(prev, seq, when, kind, review_id, data)
        raw("UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            json.dumps(data, sort_keys=True), prev, digest, seq)
        prev = digest
    count = raw("SELECT COUNT(*) FROM events")[0][0]
    raw("UPDATE chain_head SET row_count = ?, head = ?", count, prev)
