"""Building blocks of the re-check attacks: the team's curators, and an attacker who edits a
ledger behind curator's back and re-chains it so that the hash chain alone cannot tell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.ledger.chain import GENESIS, row_hash

#: runs one SQL statement (``?`` placeholders) on a connection of the attacker's own, returning rows
Raw = Callable[..., list[tuple[Any, ...]]]


def team_curator(checklists: Path, folder: Path, name: str, email: str) -> FileSigner:
    """A curator key listed in the team's ``checklists/curators.yaml`` (the team file, not a
    workspace's own trust)."""
    init_keys(folder, name, email)
    path = checklists / "curators.yaml"
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    entries = list((data or {}).get("curators") or [])
    entries.append({"name": name, "email": email, "public_key": public_key_of(folder)})
    path.write_text(yaml.safe_dump({"curators": entries}, sort_keys=False))
    return FileSigner(folder)


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
