"""Attack 4: ledger rows and checkpoints that vanish, and a renamed candidate.

Every attack is made behind curator's back, in raw SQL on a connection of the attacker's
own (SQLite and a real PostgreSQL server), or on the registry's storage (an OCI layout and
a real docker-registry), and must make the ledger check fail with a reason naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner
from curator.attest.trust import load_trusted
from curator.changes.checkpoint import make_checkpoint
from curator.core.models import Candidate, StageResult, Status
from curator.core.workspace import Workspace
from curator.decision.checkpoints import REPOSITORY, check_ledger, verify_ledger
from curator.ledger import Ledger, LedgerBase, LedgerHead
from curator.ledger.chain import row_hash
from curator.ledger.postgres import PostgresLedger
from curator.registry.interface import MANIFEST_TYPE, Registry
from curator.registry.layout import LayoutRegistry
from curator.registry.remote import RemoteRegistry
from tests.decision.helpers import cli, isolated_checklists
from tests.recheck.helpers import Raw, postgres_raw, rechain, sqlite_raw, team_curator
from tests.registry.conftest import Backend, Distribution

IMPOSTOR = "meta-llama/llama-3-8b"


@dataclass
class Store:
    backend: str
    open: Callable[[], LedgerBase]
    raw: Raw


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        return Store("sqlite", lambda: Ledger(path), sqlite_raw(path))
    url = request.getfixturevalue("pg_url")
    return Store("postgres", lambda: PostgresLedger(url), postgres_raw(url))


@pytest.fixture
def ledger(store: Store) -> Iterator[LedgerBase]:
    led = store.open()
    yield led
    led.close()


def _fill(ledger: LedgerBase, notes: int = 3) -> str:
    review = ledger.create_review(Candidate("acme/tiny", "main", "hub", commit="a" * 40))
    ledger.save_result(review.id, StageResult("fetch", Status.PASSED, (), {"n": 1}))
    for i in range(notes):
        ledger.append("quarterly_run", {"run_id": f"note {i}"}, review.id)
    return review.id


# -- the ledger alone ---------------------------------------------------------------------

def test_rows_cut_off_the_end_are_named(store: Store, ledger: LedgerBase) -> None:
    _fill(ledger)
    store.raw("DELETE FROM events WHERE seq > 3")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 4
    assert "rows 4 to 5 were deleted" in report.reason


def test_rows_added_behind_curators_back_are_named(store: Store, ledger: LedgerBase) -> None:
    _fill(ledger)
    last = ledger.events()[-1]
    forged = row_hash(last["hash"], 6, 1.0, "quarterly_run", None, {"run_id": "forged"})
    store.raw("INSERT INTO events (seq, time, kind, review_id, payload, prev_hash, hash) VALUES "
              "(6, 1.0, 'quarterly_run', NULL, ?, ?, ?)", json.dumps({"run_id": "forged"}), last["hash"],
              forged)
    report = ledger.verify()
    assert not report.ok and report.first_bad == 6 and "added behind" in report.reason


def test_a_renamed_candidate_fails(store: Store, ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    candidate = ledger.get_review(review_id).candidate.to_dict()
    store.raw("UPDATE reviews SET candidate = ? WHERE id = ?", json.dumps({**candidate, "repo_id": IMPOSTOR}),
              review_id)
    report = ledger.verify()
    assert not report.ok and report.first_bad == 1
    assert "candidate was edited" in report.reason
    assert IMPOSTOR in report.reason and "acme/tiny" in report.reason


@pytest.mark.parametrize(("edit", "named"), [
    ("UPDATE reviews SET state = 'decided'", "state was edited"),
    ("UPDATE reviews SET created = created - 86400", "creation time was edited"),
    ("DELETE FROM stage_results", "stage result fetch of review"),
])
def test_edits_to_the_tables_readers_use_fail(store: Store, ledger: LedgerBase, edit: str,
                                              named: str) -> None:
    _fill(ledger)
    store.raw(edit)
    report = ledger.verify()
    assert not report.ok and named in report.reason


def test_a_deleted_review_and_a_deleted_head_fail(store: Store, ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    store.raw("DELETE FROM stage_results")
    store.raw("DELETE FROM reviews")
    assert f"review {review_id} was deleted" in ledger.verify().reason
    store.raw("DELETE FROM chain_head")
    assert "head the ledger records was deleted" in ledger.verify().reason


def test_a_rechained_rename_is_caught_by_the_head_recorded_outside(store: Store, ledger: LedgerBase) -> None:
    """An attacker who edits the opening row too and re-chains everything leaves a ledger
    consistent with itself: only a head recorded outside it (a checkpoint, the signed state)
    tells. ``verify(anchor)`` is what the signed state's holder calls."""
    review_id = _fill(ledger)
    anchor = ledger.head()
    assert ledger.verify(anchor).ok
    candidate = ledger.get_review(review_id).candidate.to_dict()
    store.raw("UPDATE reviews SET candidate = ? WHERE id = ?", json.dumps({**candidate, "repo_id": IMPOSTOR}),
              review_id)
    rechain(store.raw, lambda seq, kind, p: {**p, "candidate": {**p["candidate"], "repo_id": IMPOSTOR}}
            if kind == "review_opened" else p)
    assert ledger.verify().ok  # consistent with itself
    report = ledger.verify(anchor)
    assert not report.ok and report.first_bad == anchor.rows and "rewritten" in report.reason
    store.raw("DELETE FROM events WHERE seq > 2")
    rechain(store.raw)
    report = ledger.verify(LedgerHead(anchor.rows, anchor.head))
    assert not report.ok and "rows were deleted" in report.reason


# -- checkpoints in the registry ----------------------------------------------------------

@pytest.fixture
def team(tmp_path: Path) -> tuple[FileSigner, dict[str, object]]:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    ada = team_curator(checklists, tmp_path / "ada", "Ada", "ada@example.org")
    return ada, dict(load_trusted(checklists))


def _two_checkpoints(ledger: LedgerBase, ada: FileSigner, registry: Registry) -> tuple[int, int]:
    _fill(ledger, notes=2)
    first = make_checkpoint(ledger, ada, registry, REPOSITORY)
    ledger.append("quarterly_run", {"run_id": "later"})
    second = make_checkpoint(ledger, ada, registry, REPOSITORY)
    ledger.append("quarterly_run", {"run_id": "after the second"})
    return first.rows, second.rows


def test_intact_ledger_holds_every_checkpoint(ledger: LedgerBase, team: tuple[FileSigner, dict[str, object]],
                                              tmp_path: Path) -> None:
    ada, trusted = team
    registry = LayoutRegistry(tmp_path / "layout")
    _two_checkpoints(ledger, ada, registry)
    check = verify_ledger(ledger, registry, REPOSITORY, trusted)
    assert check.ok and check.checkpoints is not None and check.checkpoints.checkpoint is not None
    assert check.checkpoints.checkpoint.rows == 6 and check.reason == ""


def test_deleting_the_latest_tag_fails(ledger: LedgerBase, team: tuple[FileSigner, dict[str, object]],
                                       tmp_path: Path) -> None:
    ada, trusted = team
    registry = LayoutRegistry(tmp_path / "layout")
    _two_checkpoints(ledger, ada, registry)
    assert registry.delete_tag(REPOSITORY, "latest")
    check = check_ledger(ledger, registry, REPOSITORY, trusted)
    assert not check.ok and "latest is gone" in check.problems[0] and "it was deleted" in check.problems[0]


def test_moving_latest_back_to_an_older_checkpoint_fails(ledger: LedgerBase,
                                                         team: tuple[FileSigner, dict[str, object]],
                                                         tmp_path: Path) -> None:
    ada, trusted = team
    registry = LayoutRegistry(tmp_path / "layout")
    older, newer = _two_checkpoints(ledger, ada, registry)
    body, _ = registry.get_manifest(REPOSITORY, f"rows-{older}")
    registry.put_manifest(REPOSITORY, body, MANIFEST_TYPE, "latest")
    check = check_ledger(ledger, registry, REPOSITORY, trusted)
    assert not check.ok
    assert any(f"covers {older} rows" in p and f"{newer} rows" in p and "moved back" in p
               for p in check.problems)


def test_a_recorded_checkpoint_missing_from_the_registry_fails(ledger: LedgerBase,
                                                               team: tuple[FileSigner, dict[str, object]],
                                                               tmp_path: Path) -> None:
    ada, trusted = team
    registry = LayoutRegistry(tmp_path / "layout")
    older, _ = _two_checkpoints(ledger, ada, registry)
    assert registry.delete_tag(REPOSITORY, f"rows-{older}")
    check = check_ledger(ledger, registry, REPOSITORY, trusted)
    assert not check.ok and f"rows-{older} was deleted" in check.problems[0]


def test_rows_after_the_latest_checkpoint_deleted_with_its_record_fail(
        store: Store, ledger: LedgerBase, team: tuple[FileSigner, dict[str, object]], tmp_path: Path) -> None:
    """The attacker deletes the checkpoint's own row and everything after it, and fixes the
    head the ledger keeps: the signed head still matches, but the ledger no longer records
    the checkpoint it made."""
    ada, trusted = team
    registry = LayoutRegistry(tmp_path / "layout")
    _, newer = _two_checkpoints(ledger, ada, registry)
    store.raw("DELETE FROM events WHERE seq > ?", newer)
    rechain(store.raw)
    assert ledger.verify().ok
    check = check_ledger(ledger, registry, REPOSITORY, trusted)
    assert not check.ok and "rows after it were deleted" in check.problems[0]


# -- on a real docker-registry, through the CLI ---------------------------------------------

@pytest.fixture
def registries(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The registry with the attacker's hook on its storage (docker-registry deletes no tags)."""
    if request.param == "layout":
        return Backend("layout", LayoutRegistry(tmp_path / "home" / "registry"))
    server: Distribution = request.getfixturevalue("distribution")
    return Backend("distribution", RemoteRegistry(server.url, retries=1), server)


@pytest.mark.parametrize("registries", ["layout", "distribution"], indirect=True)
def test_ledger_verify_exits_one_when_a_checkpoint_vanishes(registries: Backend, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    ada = team_curator(checklists, tmp_path / "ada", "Ada", "ada@example.org")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    monkeypatch.setenv("CURATOR_HOME", str(tmp_path / "home"))
    registry = registries.registry
    where = ["--registry", registry.location] if registries.distribution else []
    with Ledger(Workspace.open(tmp_path / "home").ledger_path) as led:
        older, newer = _two_checkpoints(led, ada, registry)
    assert cli("ledger", "verify", *where).returncode == 0
    body, _ = registry.get_manifest(REPOSITORY, f"rows-{older}")
    registry.put_manifest(REPOSITORY, body, MANIFEST_TYPE, "latest")
    done = cli("ledger", "verify", "--json", *where)
    doc = json.loads(done.stdout)
    assert done.returncode == 1 and doc["chain_ok"] is True and doc["ok"] is False
    assert any("moved back" in p and f"{newer} rows" in p for p in doc["checkpoint"]["problems"])
    registries.delete_tag(REPOSITORY, "latest")
    human = cli("ledger", "verify", *where)
    assert human.returncode == 1 and "latest is gone" in human.stderr


@pytest.mark.parametrize("registries", ["layout", "distribution"], indirect=True)
def test_erasing_the_later_checkpoint_everywhere_but_its_tag_fails(
        registries: Backend, team: tuple[FileSigner, dict[str, object]], tmp_path: Path) -> None:
    """The thorough attacker: rows from the second checkpoint on deleted (its record too), the
    head fixed, ``latest`` moved back to the first. The ledger and ``latest`` now agree; the
    registry's ``rows-N`` tags (listed across pages) still show a later checkpoint."""
    ada, trusted = team
    path, registry = tmp_path / "ledger.db", registries.registry
    with Ledger(path) as led:
        older, newer = _two_checkpoints(led, ada, registry)
        raw = sqlite_raw(path)
        raw("DELETE FROM events WHERE seq > ?", older + 1)
        rechain(raw)
        body, _ = registry.get_manifest(REPOSITORY, f"rows-{older}")
        registry.put_manifest(REPOSITORY, body, MANIFEST_TYPE, "latest")
        assert led.verify().ok
        check = check_ledger(led, registry, REPOSITORY, trusted)
    assert not check.ok and check.problems == [
        f"{REPOSITORY}:latest covers {older} rows, but {REPOSITORY}:rows-{newer} exists: "
        "latest was moved back"]


def test_ledger_verify_exits_one_on_a_renamed_candidate_in_the_team_ledger(pg_url: str) -> None:
    with PostgresLedger(pg_url) as led:
        review_id = _fill(led)
        candidate = led.get_review(review_id).candidate.to_dict()
    postgres_raw(pg_url)("UPDATE reviews SET candidate = ? WHERE id = ?",
                         json.dumps({**candidate, "repo_id": IMPOSTOR}), review_id)
    done = cli("ledger", "verify", "--no-checkpoint", env={"CURATOR_LEDGER_URL": pg_url})
    assert done.returncode == 1 and IMPOSTOR in done.stderr and "candidate was edited" in done.stderr
