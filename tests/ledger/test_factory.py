"""`open_ledger` picks the backend: SQLite in the workspace unless a postgresql:// URL is set
($CURATOR_LEDGER_URL, else ledger.url in the policy); bad settings are one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.errors import LedgerError, UsageError
from curator.core.models import Candidate
from curator.core.policy import Policy
from curator.core.workspace import Workspace
from curator.ledger import LEDGER_URL_ENV, Ledger, open_ledger
from curator.ledger.postgres import PostgresLedger
from curator.review.session import Session
from tests.ledger.pgserver import free_port


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    return Workspace.open(tmp_path / "home")


def _policy(url: object, tmp_path: Path) -> Policy:
    return Policy({"ledger": {"url": url}}, tmp_path)


def test_the_shipped_policy_keeps_the_ledger_in_the_workspace(ws: Workspace) -> None:
    led = open_ledger(ws)
    try:
        assert isinstance(led, Ledger) and led.path == ws.ledger_path
        assert ws.ledger_path.exists()
    finally:
        led.close()


def test_the_environment_picks_postgres(ws: Workspace, pg_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_URL_ENV, pg_url)
    led = open_ledger(ws)
    try:
        assert isinstance(led, PostgresLedger)
        led.append("quarterly_run", {"run_id": "team"})
    finally:
        led.close()
    assert not ws.ledger_path.exists()
    again = PostgresLedger(pg_url)
    assert [e["payload"] for e in again.events()] == [{"run_id": "team"}]
    again.close()


def test_the_policy_picks_postgres_and_the_environment_wins(
        ws: Workspace, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    led = open_ledger(ws, _policy(pg_url, tmp_path))
    assert isinstance(led, PostgresLedger)
    led.close()
    nowhere = f"postgresql://curator@127.0.0.1:{free_port()}/none"
    monkeypatch.setenv(LEDGER_URL_ENV, pg_url)
    led = open_ledger(ws, _policy(nowhere, tmp_path))
    assert isinstance(led, PostgresLedger) and led.where == pg_url
    led.close()


def test_a_session_keeps_its_reviews_in_the_team_ledger(
        ws: Workspace, pg_url: str, tmp_path: Path) -> None:
    session = Session.open(ws, _policy(pg_url, tmp_path))
    try:
        review = session.ledger.create_review(Candidate("acme/m", "main", "hub", commit="c" * 40))
    finally:
        session.close()
    assert not ws.ledger_path.exists()
    team = PostgresLedger(pg_url)
    assert team.get_review(review.id).candidate.repo_id == "acme/m"
    team.close()


@pytest.mark.parametrize("url", ["mysql://curator@db/ledger", "ledger.db", "sqlite:///tmp/l.db"])
def test_a_url_that_is_not_postgres_is_refused(ws: Workspace, url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_URL_ENV, url)
    with pytest.raises(UsageError, match=f"\\${LEDGER_URL_ENV} .* is not a postgresql:// URL") as caught:
        open_ledger(ws)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_a_password_in_the_policy_file_is_refused(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="PGPASSWORD") as caught:
        open_ledger(ws, _policy("postgresql://curator:hunter2@db.example/ledger", tmp_path))
    assert "hunter2" not in str(caught.value)
    with pytest.raises(UsageError, match="must be a string"):
        open_ledger(ws, _policy(5432, tmp_path))


def test_an_unreachable_server_is_one_line_without_the_password(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv(LEDGER_URL_ENV, f"postgresql://curator:s3cret@127.0.0.1:{port}/team?sslmode=disable")
    with pytest.raises(LedgerError) as caught:
        open_ledger(ws)
    text = str(caught.value)
    assert f"postgresql://curator@127.0.0.1:{port}/team" in text
    assert "s3cret" not in text and "\n" not in text and "PGPASSWORD" in text
    assert caught.value.exit_code == 2
