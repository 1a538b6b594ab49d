"""What only the team ledger has to survive: many curators opening, writing and deciding at
once from separate connections and processes, a dropped connection, a held lock, and a
role that may only append to the log."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import psycopg
import pytest

from curator.core.errors import LedgerError
from curator.core.events import DecisionMade
from curator.core.models import Candidate
from curator.ledger import postgres
from curator.ledger.postgres import LOCK_KEY, PostgresLedger
from tests.ledger.pgserver import PgServer, start_server
from tests.needs import missing


def test_curators_opening_a_new_ledger_at_once_migrate_it_once(pg_url: str) -> None:
    opened: list[PostgresLedger] = []
    failed: list[BaseException] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(PostgresLedger(pg_url))
        except BaseException as exc:  # noqa: BLE001 - the assertion below names it
            failed.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed and len(opened) == 6
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT key, value FROM curator_meta").fetchall() == [("schema_version", "2")]
    for led in opened:
        led.close()


def test_processes_appending_at_once_keep_one_chain(pg_url: str) -> None:
    """Two curator processes (as on two machines) append 150 events each, interleaved."""
    PostgresLedger(pg_url).close()
    script = textwrap.dedent("""
        import sys
        from curator.ledger.postgres import PostgresLedger
        led = PostgresLedger(sys.argv[1])
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(150):
            led.append("quarterly_run", {"run_id": sys.argv[2], "date": str(i)})
        led.close()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, pg_url, tag], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for tag in ("a", "b")]
    for p in procs:  # both connected: start them together
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.close()
    assert [p.wait(120) for p in procs] == [0, 0]
    led = PostgresLedger(pg_url)
    report = led.verify()
    events = led.events()
    led.close()
    assert report.ok and report.rows == 300
    assert [e["seq"] for e in events] == list(range(1, 301))
    whos = [e["payload"]["run_id"] for e in events]
    assert whos.count("a") == whos.count("b") == 150
    # interleaved, not one process after the other: the lock was really contended
    assert sum(1 for x, y in itertools.pairwise(whos) if x != y) > 1


def test_a_write_waits_for_the_decision_in_progress(pg_url: str) -> None:
    """While one curator's decision transaction is open, another's append waits, then
    chains after the decision: it never reads the chain head the decision is replacing."""
    decider, other, reader = PostgresLedger(pg_url), PostgresLedger(pg_url), PostgresLedger(pg_url)
    review_id = decider.create_review(Candidate("acme/m", "main", "hub", commit="d" * 40)).id
    inside, release = threading.Event(), threading.Event()
    appended: list[int] = []

    def judge(state: str, prior: list[DecisionMade]) -> tuple[str, DecisionMade]:
        inside.set()
        release.wait(60)
        return "decided", DecisionMade("approved")

    deciding = threading.Thread(target=decider.record_decision, args=(review_id, judge))
    deciding.start()
    assert inside.wait(60)
    later = {"run_id": "later"}
    writer = threading.Thread(target=lambda: appended.append(other.append("quarterly_run", later)))
    writer.start()
    time.sleep(0.5)
    assert appended == []  # still waiting for the lock
    assert [e["kind"] for e in reader.events()] == ["review_opened"]  # reads do not wait
    release.set()
    deciding.join(60)
    writer.join(60)
    kinds = [e["kind"] for e in other.events()]
    assert kinds == ["review_opened", "decision", "review_state", "quarterly_run"] and appended == [4]
    assert other.verify().ok
    for led in (decider, other, reader):
        led.close()


def test_a_held_lock_makes_a_write_busy_not_stuck(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_SECONDS", 1)
    led = PostgresLedger(pg_url)
    with psycopg.connect(pg_url) as holder:  # another curator, mid-write
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        started = time.monotonic()
        with pytest.raises(LedgerError, match="is busy") as caught:
            led.append("quarterly_run", {"run_id": "blocked"})
        assert time.monotonic() - started < 60  # busy after its 1 s lock timeout, never stuck
        assert "\n" not in str(caught.value)
    led.append("quarterly_run", {"run_id": "after"})  # the lock is gone with the holder's transaction
    assert [e["payload"]["run_id"] for e in led.events()] == ["after"]
    assert led.verify().ok
    led.close()


def test_a_dropped_connection_is_replaced(pg_url: str, pg_server: PgServer) -> None:
    """The server (or a proxy, or a restart) ends the ledger's session between two writes."""
    led = PostgresLedger(pg_url)
    led.append("quarterly_run", {"run_id": "before"})
    database = pg_url.rsplit("/", 1)[1]
    with pg_server.admin() as admin:
        killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND application_name = 'curator'",
                               (database,)).fetchall()
    assert killed == [(True,)]
    led.append("quarterly_run", {"run_id": "after"})
    assert [e["payload"]["run_id"] for e in led.events()] == ["before", "after"]
    assert led.verify().ok
    led.close()


def test_a_role_that_can_only_append_to_the_log(pg_url: str, pg_server: PgServer) -> None:
    """Least privilege for a team: curators' role may insert events but never edit or
    delete them; the ledger still works, because its lock needs no table rights."""
    PostgresLedger(pg_url).close()  # migrated by the owner
    role = "appender_" + uuid.uuid4().hex[:8]
    with pg_server.admin() as admin:
        try:
            admin.execute(f"CREATE ROLE {role} LOGIN")
        except psycopg.errors.InsufficientPrivilege:
            missing("a PostgreSQL test role that may create roles", "run the tests' own server (unset "
                    "CURATOR_TEST_PG_URL) or grant CREATEROLE")
    try:
        with psycopg.connect(pg_url, autocommit=True) as owner:
            owner.execute(f"GRANT SELECT, INSERT ON events TO {role}")
            owner.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON reviews, stage_results TO {role}")
            owner.execute(f"GRANT SELECT ON curator_meta TO {role}")
            owner.execute(f"GRANT SELECT, INSERT, UPDATE ON chain_head TO {role}")
        url = pg_url.replace("postgresql://curator@", f"postgresql://{role}@")
        led = PostgresLedger(url)
        review = led.create_review(Candidate("acme/m", "main", "hub", commit="e" * 40))
        led.record_decision(review.id, lambda state, prior: ("decided", DecisionMade("rejected")))
        assert led.verify().ok and led.verify().rows == 3
        led.close()
        with psycopg.connect(url) as curator_role, pytest.raises(psycopg.errors.InsufficientPrivilege):
            curator_role.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    finally:
        with psycopg.connect(pg_url, autocommit=True) as owner:
            owner.execute(f"DROP OWNED BY {role}")  # its grants in the test database
        with pg_server.admin() as admin:
            admin.execute(f"DROP ROLE {role}")


def test_a_server_gone_down_is_one_clear_error() -> None:
    """The team's server stops while a curator works: every call is a LedgerError (exit 2)
    naming the ledger, never a driver traceback."""
    try:
        server = start_server()
    except (OSError, RuntimeError) as exc:
        missing(f"a private PostgreSQL server for this test ({exc})", "run 'make sysdeps'")
    try:
        url = server.create_database()
        led = PostgresLedger(url)
        led.append("quarterly_run", {"run_id": "before"})
        server.stop()
        for call in (lambda: led.append("quarterly_run", {"run_id": "lost"}), led.events, led.verify):
            with pytest.raises(LedgerError, match=r"ledger postgresql://curator@127\.0\.0\.1") as caught:
                call()
            assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
        led.close()
    finally:
        server.stop()


def test_a_connection_lost_mid_decision_records_nothing(pg_url: str, pg_server: PgServer) -> None:
    led = PostgresLedger(pg_url)
    review_id = led.create_review(Candidate("acme/m", "main", "hub", commit="9" * 40)).id
    database = pg_url.rsplit("/", 1)[1]

    def judge(state: str, prior: list[DecisionMade]) -> tuple[str, DecisionMade]:
        with pg_server.admin() as admin:  # the session dies between the read and the write
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND application_name = 'curator'", (database,))
        return "decided", DecisionMade("approved")

    with pytest.raises(LedgerError, match="nothing of it was saved"):
        led.record_decision(review_id, judge)
    assert led.events(review_id, kind="decision") == []  # a fresh connection, same ledger
    assert led.get_review(review_id).state == "open"
    assert led.verify().ok
    led.close()
