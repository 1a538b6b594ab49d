"""The embedded OCI image layout: standard enough for skopeo, safe under concurrent pushes,
and never writing outside the pull folder whatever a manifest says."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner
from curator.core.errors import IntegrityError
from curator.decision.decide import DecisionRequest, decide
from curator.decision.rules import DecisionRules
from curator.decision.verify import pull
from curator.registry.artifact import TITLE, build_decision
from curator.registry.interface import MANIFEST_TYPE, Descriptor, Reference, fallback_tag, sha256_digest
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from tests.decision.helpers import (
    cli,
    curator,
    gate,
    isolated_checklists,
    make_model,
    model_tags,
    open_session,
    reviewed,
)
from tests.needs import need_binary
from tests.registry.conftest import Distribution


@pytest.fixture
def skopeo() -> str:
    """The path of Debian's skopeo (fails under CI, skips elsewhere, when it is missing)."""
    return need_binary("skopeo")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(isolated_checklists(tmp_path / "checklists", ["fetch"]))
    yield s
    s.close()


@pytest.fixture
def ada(session: Session, tmp_path: Path) -> FileSigner:
    return curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")


def test_layout_files_are_the_oci_ones(tmp_path: Path) -> None:
    registry = LayoutRegistry(tmp_path / "r")
    assert json.loads((tmp_path / "r" / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert json.loads((tmp_path / "r" / "index.json").read_text())["manifests"] == []
    with pytest.raises(IntegrityError, match="no longer matches"):
        registry.push_blob("x/y", sha256_digest(b"abc"), 3, b"abd")
    assert list((tmp_path / "r" / "blobs" / "sha256").iterdir()) == []  # nothing half-written


def test_skopeo_reads_and_copies_the_layout(session: Session, ada: FileSigner, tmp_path: Path,
                                            distribution: Distribution, skopeo: str) -> None:
    review = reviewed(session, make_model(tmp_path / "tiny"))
    layout = LayoutRegistry(session.workspace.registry_dir)
    outcome = decide(session, DecisionRequest(review.id, True, "ok"), ada, layout)
    assert outcome.ref
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{layout.root}:{outcome.ref}"],
                         capture_output=True, check=True).stdout
    assert sha256_digest(raw) == outcome.manifest_digest
    # copy the model and its decision tag to a registry with skopeo alone; the gate still passes
    name, tag = outcome.ref.split(":")
    # skopeo 1.9 rewrites an index (dropping artifactType), so only the model keeps its digest
    # and the signed state (curator-state, one artifact per TUF file) goes along, digests kept
    copies = [(name, tag, ["--preserve-digests"]), (name, fallback_tag(outcome.manifest_digest), [])]
    copies += [(n, t, ["--preserve-digests"]) for n, t, _ in layout.tags() if n == "curator-state"]
    for repo, t, keep in copies:
        subprocess.run(["skopeo", "copy", "--all", *keep, "--dest-tls-verify=false",
                        f"oci:{layout.root}:{repo}:{t}", f"docker://{distribution.host}/{repo}:{t}"],
                       capture_output=True, check=True)
    done = cli("verify", f"{distribution.host}/{outcome.ref}", "--json",
               env={"CURATOR_CHECKLISTS": str(session.policy.directory)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["manifest_digest"] == outcome.manifest_digest


def test_concurrent_pushes_keep_every_tag(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    reviews = [reviewed(session, make_model(tmp_path / f"m{i}", seed=i)) for i in range(6)]
    layout = LayoutRegistry(session.workspace.registry_dir)
    refs: list[str] = []
    errors: list[BaseException] = []

    def one(review_id: str) -> None:
        s = open_session(session.policy.directory)
        try:
            outcome = decide(s, DecisionRequest(review_id, True, "ok"), ada, LayoutRegistry(layout.root))
            refs.append(str(outcome.ref))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(r.id,)) for r in reviews]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    tags = {f"{n}:{t}" for n, t, _ in model_tags(layout)}
    assert set(refs) <= tags and len(tags) == 18  # 6 models + 6 prod tags + 6 decision fallback tags
    # and no signed state change was lost: every model is approved in the latest targets
    assert len(gate(session, layout).state.approved()) == 6


def test_a_manifest_that_escapes_the_pull_folder_is_refused(session: Session, ada: FileSigner,
                                                            tmp_path: Path) -> None:
    review = reviewed(session, make_model(tmp_path / "tiny"))
    layout = LayoutRegistry(session.workspace.registry_dir)
    outcome = decide(session, DecisionRequest(review.id, True, "ok"), ada, layout)
    body, _ = layout.get_manifest("local/tiny", outcome.manifest_digest)
    evil = json.loads(body)
    evil["layers"][0]["annotations"][TITLE] = "../../escaped.txt"
    evil_bytes = json.dumps(evil).encode()
    layout.put_manifest("local/tiny", evil_bytes, MANIFEST_TYPE, "evil")
    envelope = session.ledger.events(review.id, kind="decision")[0]["payload"]["envelope"].encode()
    subject = Descriptor(MANIFEST_TYPE, sha256_digest(evil_bytes), len(evil_bytes))
    decision = build_decision([envelope], subject)
    layout.put_referrer("local/tiny", decision.manifest, MANIFEST_TYPE, sha256_digest(evil_bytes),
                        "application/vnd.curator.decision.v1+json")
    report = pull(layout, Reference("local/tiny", tag="evil"), tmp_path / "out" / "m",
                  gate(session, layout),
                  DecisionRules.from_policy(session.policy))
    # the signed state never approved the evil manifest: refused before a file is written
    assert not report.ok and report.problems[0].code == "unknown-target"
    assert not (tmp_path / "out" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
