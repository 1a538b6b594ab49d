"""Upstream changes seen through a real (local) HF-compatible hub, and the hard time limit on a
hub that never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from curator.decision.rules import DecisionRules
from curator.quarterly.run import run_quarterly
from curator.quarterly.upstream import upstream_facts
from curator.registry.layout import LayoutRegistry
from curator.review.session import parse_target
from tests.decision.helpers import curator, gate, open_session
from tests.export.helpers import checklists, eval_result, model_folder

REPO = "acme-labs/tiny-upstream"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _upstream(session: Any) -> Any:
    run = run_quarterly(session, LayoutRegistry(session.workspace.registry_dir),
                        gate(session, LayoutRegistry(session.workspace.registry_dir)),
                        DecisionRules.from_policy(session.policy), record=False)
    (model,) = run.models
    return next(c for c in model.checks if c.name == "upstream"), model


def test_newer_revision_card_and_license_changes_are_flagged(hub: Any, hub_store: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.decision.decide import DecisionRequest, decide

    folder = model_folder(tmp_path / "files", "tiny-upstream")
    first = hub_store.publish(REPO, _files(folder))
    lists = checklists(tmp_path / "checklists", check_upstream=True, upstream_timeout_seconds=10)
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(lists))
    session = open_session(lists)
    try:
        signer = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        review = session.open_review(parse_target(REPO, endpoint=hub.url))
        session.run(review, only=["fetch", "scan", "card"])
        session.ledger.save_result(review.id, eval_result())
        decide(session, DecisionRequest(review.id, True, "ok"), signer,
               LayoutRegistry(session.workspace.registry_dir))
        check, model = _upstream(session)
        assert check.outcome == "ok" and check.message == "still the newest on 'main'"
        card = (folder / "README.md").read_text().replace("license: apache-2.0", "license: cc-by-nc-4.0")
        newer = hub_store.publish(REPO, {**_files(folder), "README.md": card.encode()}, message="relicense")
        check, model = _upstream(session)
    finally:
        session.close()
    assert newer != first
    assert check.outcome == "warn" and f"newer revision {newer[:12]} on 'main'" in check.message
    assert "the model card changed" in check.message
    assert "the license changed from apache-2.0 to cc-by-nc-4.0" in check.message
    assert model.outcome == "warn" and model.failed == []  # upstream is not in fail_on: the lead decides


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _entry(endpoint: str) -> SimpleNamespace:
    return SimpleNamespace(endpoint=endpoint, repo_id=REPO, requested_revision="main", revision="a" * 40,
                           license="apache-2.0")


def test_a_hub_that_never_answers_is_skipped_within_the_limit(black_hole: str) -> None:
    started = time.monotonic()
    facts = upstream_facts(_entry(black_hole), None, timeout=1.0)
    assert time.monotonic() - started < 30  # the 1 s limit held; a black hole never answers
    assert facts["outcome"] == "skipped"


def test_a_hub_that_is_down_is_skipped_not_failed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    facts = upstream_facts(_entry(f"http://127.0.0.1:{port}"), None, timeout=5.0)
    assert facts["outcome"] == "skipped" and "could not ask the hub" in facts["message"]
