"""The demo workspace: its policy, keys and signed samples, judged by the real stages.

The clean release is signed by acme-labs' listed signer (signature passed, publisher identity
verified by it); the chat sample's signature verifies but is the wrong signer's, and the
failure names both; the look-alike is flagged from its name alone; every LM sample's tokenizer
loads. Offline: the local hub on loopback, model-signing for real."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Candidate, Status
from curator.core.policy import CHECKLISTS_ENV, Policy
from curator.core.workspace import Workspace
from curator.demo.hub import HubServer
from curator.demo.policy import DEMO_CURATOR, prepare_policy
from curator.demo.prepare import DemoPreparation
from curator.demo.store import HubStore
from curator.review.session import Session
from curator.stages.signature.trust import load_publishers
from tests.needs import need_module


class Noted:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.readied: list[str] = []

    def progress(self, line: str) -> None:
        self.lines.append(line)

    def ready(self, name: str) -> None:
        self.readied.append(name)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    ws = Workspace.open(tmp_path / "home")
    setup = prepare_policy(ws)
    monkeypatch.setenv(CHECKLISTS_ENV, str(setup.checklists))
    with HubServer(ws.home / "demo-hub") as hub:
        preparation = DemoPreparation(ws, ws.home / "demo-hub", setup, hub.url, real_lm=False)
        yield ws, setup, hub, preparation


def test_the_demo_policy_lists_acme_labs_and_the_demo_curator(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "home")
    setup = prepare_policy(ws)
    rules = load_publishers(setup.checklists)
    assert [(r.match, r.required) for r in rules] == [("acme-labs", True)]
    assert rules[0].signers[0].subject == setup.publisher.subject != setup.impostor.subject
    curators = (setup.checklists / "curators.yaml").read_text()
    assert DEMO_CURATOR[0] in curators and "demo" in curators.splitlines()[0].lower()
    assert Policy.load(setup.checklists).stages == Policy.load().stages  # the shipped policy otherwise
    files = {p: p.stat().st_mtime_ns for p in (ws.home / "demo").rglob("*") if p.is_file()}
    again = prepare_policy(ws)  # a second start changes nothing: same keys, same files
    assert again == setup and {p: p.stat().st_mtime_ns for p in files} == files


def test_no_curator_key_is_made_when_asked_not_to(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "home")
    setup = prepare_policy(ws, curator_key=False)
    assert not (ws.keys_dir / "curator.key").exists()
    assert "curators: []" in (setup.checklists / "curators.yaml").read_text()


def test_queue_is_known_before_anything_is_built(demo: Any) -> None:
    ws, _, hub, preparation = demo
    entries = preparation.entries()
    assert not (ws.home / "demo-hub" / "acme-labs").exists()
    assert [(e.candidate.repo_id, e.candidate.revision) for e in entries][:2] == [
        ("acme-labs/tinyllama-clean", "v1.1"), ("acme-labs/tinyllama-clean", "main")]
    assert all(e.candidate.endpoint == hub.url for e in entries)
    noted = Noted()
    preparation.run(noted)
    assert sorted(noted.readied) == sorted({e.repo_id for e in entries})
    assert noted.lines[-1].startswith("demo ready")
    store = HubStore(ws.home / "demo-hub")
    for repo_id in ("acme-labs/tinyllama-clean", "acme-labs/tinyllama-pickled", "acme-labs/tinyllama-chat"):
        repo = store.repo(repo_id)
        assert repo is not None
        assert all("model.sig" in repo.commit(sha).files for sha in repo.commit_ids())  # type: ignore[union-attr]
    finetune = store.repo("hobbyist99/tinyllama-finetune")
    assert finetune is not None and "model.sig" not in finetune.resolve("main").files  # type: ignore[union-attr]


def test_a_cancelled_preparation_stops_and_says_so(demo: Any) -> None:
    from curator.core.progress import Cancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        demo[3].run(Noted(), cancel)


def test_signed_release_passes_and_the_wrong_signer_fails_naming_both(demo: Any) -> None:
    ws, setup, hub, preparation = demo
    preparation.run(Noted())
    session = Session.open(ws)
    try:
        results = {}
        for repo_id, revision in (("acme-labs/tinyllama-clean", "v1.1"),
                                  ("acme-labs/tinyllama-chat", "main")):
            review = session.open_review(Candidate(repo_id, revision, "hub", endpoint=hub.url))
            results[repo_id] = session.run(review, ["fetch", "signature", "card"])
        lookalike = session.name_check(Candidate("acme-1abs/tinyllama-clean", "main", "hub",
                                                 endpoint=hub.url))
    finally:
        session.close()
    clean = results["acme-labs/tinyllama-clean"]
    assert clean["signature"].status == Status.PASSED
    assert clean["signature"].evidence["signer"]["subject"] == setup.publisher.subject
    assert clean["card"].evidence["fields"]["publisher_identity"]["status"] == "verified"
    wrong = results["acme-labs/tinyllama-chat"]["signature"]
    assert wrong.status == Status.FAILED
    message = " ".join(f.message for f in wrong.findings)
    assert "QuickBuild CI bot" in message and "Acme Labs release signing" in message
    assert lookalike and "acme-labs" in lookalike[0].message  # before anything is downloaded


def test_every_lm_sample_ships_a_tokenizer_that_loads(demo: Any) -> None:
    transformers: Any = need_module("transformers")
    ws, _, _, preparation = demo
    preparation.run(Noted())
    store = HubStore(ws.home / "demo-hub")
    for sample in preparation.samples:
        commit = store.repo(sample.repo_id).resolve("main")  # type: ignore[union-attr]
        assert commit is not None
        target = ws.home / "tok" / sample.repo_id
        target.mkdir(parents=True)
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "config.json"):
            (target / name).write_bytes(commit.files[name].location.read_bytes())
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(target))
        ids = tokenizer("Héllo, world")["input_ids"]
        assert tokenizer.decode(ids) == "Héllo, world" and max(ids) < 1024
