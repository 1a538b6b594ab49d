"""PostgreSQL ledger: one database that a team's curators share from many machines.

Every write transaction starts by taking one transaction-scoped advisory lock, so appends
and decisions from every connection, on every machine, are serialised: no two writers can
read the same chain head, and the chain cannot fork (``events.seq`` being the primary key
is the backstop). An advisory lock rather than ``LOCK TABLE``: it also covers the first
migration (before any table exists) and needs no UPDATE/DELETE grant on ``events``, so a
team may run curators under a role that can only append to the log.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from curator.core.errors import LedgerError
from curator.ledger.base import HEAD_MIGRATION, SCHEMA_VERSION, LedgerBase, Tx

__all__ = ["SCHEMA_VERSION", "PostgresLedger", "redact"]

#: key of the advisory lock every write holds ("curator" in ASCII)
LOCK_KEY = 0x63757261746F72
#: seconds a write waits for another curator's write before giving up as busy
LOCK_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 10

MIGRATIONS: list[str] = [
    # 1: reviews, results and the chained event log (same shape as the SQLite ledger)
    """
    CREATE TABLE reviews (
        id TEXT PRIMARY KEY, candidate TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
        state TEXT NOT NULL DEFAULT 'open');
    CREATE TABLE stage_results (
        review_id TEXT NOT NULL REFERENCES reviews(id), stage TEXT NOT NULL,
        result TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (review_id, stage));
    CREATE TABLE events (
        seq BIGINT PRIMARY KEY, time DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, review_id TEXT,
        payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE INDEX events_by_review ON events (review_id)
    """,
    # 2: the chain's head, kept by every append (rows cut off its end no longer go unseen)
    HEAD_MIGRATION,
]

Connection = psycopg.Connection[tuple[Any, ...]]


def redact(url: str) -> str:
    """The URL as errors may show it: no password, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@functools.lru_cache(maxsize=64)
def _pg(sql: str) -> str:
    # the shared SQL is written with SQLite's ``?``; it never contains ``?`` or ``%`` otherwise
    return sql.replace("?", "%s")


class _PgTx:
    """The ``Tx`` adapter over one psycopg connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(_pg(sql), args or None).fetchall()

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self._conn.execute(_pg(sql), args or None)


class PostgresLedger(LedgerBase):
    """A team ledger in a PostgreSQL database, addressed by a ``postgresql://`` URL.

    Credentials come from the URL or, better, libpq's own ``PGPASSWORD`` / ``~/.pgpass``.
    """

    MIGRATIONS = MIGRATIONS

    def __init__(self, url: str) -> None:
        super().__init__(redact(url))
        self._url = url
        self._in_tx = False
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> Connection:
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                   application_name="curator")
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
        except psycopg.Error as exc:
            raise LedgerError(f"cannot reach the ledger {self.where} ({_one_line(exc)})",
                              "check that the server is up, the URL ($CURATOR_LEDGER_URL or "
                              "ledger.url in default.yaml) and the credentials "
                              "(PGPASSWORD or ~/.pgpass)") from exc
        return conn

    def close(self) -> None:
        with self._lock:  # never under a worker thread's read
            self._conn.close()

    def _lost(self, exc: BaseException, what: str) -> LedgerError:
        return LedgerError(f"lost the connection to the ledger {self.where} {what} ({_one_line(exc)})",
                           "check the server and try again")

    def _begin(self, begin: str, lock: bool) -> Connection:
        """Open a transaction; a connection the server dropped since the last use is
        replaced once, which is safe because nothing of this transaction was sent yet."""
        for attempt in (1, 2):
            if self._conn.closed or self._conn.broken:
                self._conn = self._connect()
            conn = self._conn
            try:
                conn.execute(begin)
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                return conn
            except pg_errors.LockNotAvailable as exc:
                self._rollback(conn)
                raise LedgerError(f"the ledger {self.where} is busy (waited {LOCK_TIMEOUT_SECONDS} s "
                                  "for another curator's write)", "try again") from exc
            except psycopg.OperationalError as exc:
                self._rollback(conn)
                if not conn.broken or attempt == 2:
                    raise self._lost(exc, "while starting a transaction") from exc
            except BaseException:
                # e.g. Ctrl-C while waiting for the lock: leave no transaction open behind
                self._rollback(conn)
                raise
        raise AssertionError("unreachable")

    @staticmethod
    def _rollback(conn: Connection) -> None:
        if conn.broken or conn.closed:
            return
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            # the transaction is gone with the connection; the server rolls it back itself
            conn.close()

    @contextmanager
    def _transaction(self, begin: str, lock: bool) -> Iterator[Tx]:
        with self._lock:
            if self._in_tx:  # a read inside a write: it sees (and is part of) that write
                yield _PgTx(self._conn)
                return
            conn = self._begin(begin, lock)
            self._in_tx = True
            try:
                yield _PgTx(conn)
            except psycopg.OperationalError as exc:
                self._rollback(conn)
                raise self._lost(exc, "during a transaction; nothing of it was saved") from exc
            except psycopg.Error as exc:
                self._rollback(conn)
                raise LedgerError(f"the ledger {self.where} refused a statement ({_one_line(exc)})",
                                  "check the server's log and this role's rights on the database") from exc
            except BaseException:
                self._rollback(conn)
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except psycopg.Error as exc:
                    self._rollback(conn)
                    raise LedgerError(
                        f"the ledger {self.where} did not confirm a write ({_one_line(exc)})",
                        "it may or may not be recorded: check with 'curator ledger verify' "
                        "and the review's events before retrying") from exc
            finally:
                self._in_tx = False

    def _write(self) -> AbstractContextManager[Tx]:
        return self._transaction("BEGIN", lock=True)

    def _read(self, snapshot: bool = False) -> AbstractContextManager[Tx]:
        return self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if snapshot
                                 else "BEGIN READ ONLY", lock=False)

    def _schema_version(self, db: Tx) -> int:
        # checked before created, so a role without CREATE rights can open a migrated ledger
        if db.rows("SELECT to_regclass('curator_meta')")[0][0] is None:
            db.run("CREATE TABLE curator_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        rows = db.rows("SELECT value FROM curator_meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def _set_schema_version(self, db: Tx, version: int) -> None:
        db.run("INSERT INTO curator_meta (key, value) VALUES ('schema_version', ?) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(version),))
