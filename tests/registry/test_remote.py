"""The remote registry client against a real docker-registry: referrers fallback, retries,
basic auth, skipped blobs, no tag on a failed push, and streaming (bounded memory)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner
from curator.core.errors import NotInRegistry, RegistryUnreachable
from curator.decision.decide import DecisionRequest, decide, push_review
from curator.decision.rules import DecisionRules
from curator.decision.verify import verify
from curator.registry.interface import Reference, fallback_tag
from curator.registry.remote import RemoteRegistry
from curator.review.session import Session
from tests.decision.helpers import (
    cli,
    curator,
    gate,
    isolated_checklists,
    make_model,
    open_session,
    reviewed,
    state_for,
)
from tests.needs import missing, need_module
from tests.registry.conftest import Distribution, start_distribution
from tests.registry.proxy import FaultyProxy


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(isolated_checklists(tmp_path / "checklists", ["fetch"]))
    yield s
    s.close()


@pytest.fixture
def ada(session: Session, tmp_path: Path) -> FileSigner:
    return curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")


def _check(session: Session, registry: RemoteRegistry, ref: str) -> list[str]:
    report = verify(registry, Reference.parse(ref.split("/", 1)[1]), gate(session, registry),
                    DecisionRules.from_policy(session.policy))
    return [p.code for p in report.problems] if report.problems else (["ok"] if report.ok else ["?"])


def test_push_uses_the_fallback_tag_and_skips_known_blobs(session: Session, ada: FileSigner, tmp_path: Path,
                                                          distribution: Distribution) -> None:
    registry = RemoteRegistry(distribution.url)
    state_for(registry, session.workspace)
    review = reviewed(session, make_model(tmp_path / "tiny"))
    outcome = decide(session, DecisionRequest(review.id, True, "ok"), ada, registry)
    assert outcome.ref == f"{distribution.host}/local/tiny:{outcome.ref.rsplit(':', 1)[1]}"
    # distribution 2.8 has no referrers API: the decision hangs off the sha256-<hex> tag
    assert registry.referrers_api("local/tiny", outcome.manifest_digest) is None
    index, media = registry.get_manifest("local/tiny", fallback_tag(outcome.manifest_digest))
    assert media == "application/vnd.oci.image.index.v1+json"
    assert json.loads(index)["manifests"][0]["artifactType"] == "application/vnd.curator.decision.v1+json"
    again = push_review(session, review.id, registry, signer=ada)
    assert again.uploaded_bytes == 0 and again.skipped_bytes == outcome_bytes(session, review.id)
    assert _check(session, registry, outcome.ref) == ["ok"]


def outcome_bytes(session: Session, review_id: str) -> int:
    return int(session.ledger.results(review_id)["fetch"].evidence["total_bytes"])


def test_transient_errors_are_retried(session: Session, ada: FileSigner, tmp_path: Path,
                                      distribution: Distribution) -> None:
    state_for(RemoteRegistry(distribution.url), session.workspace)
    # every third request fails with a 503 (bounded: the first 30 requests only)
    with FaultyProxy(distribution.url, lambda m, p, n: 503 if n % 3 == 1 and n < 30 else None) as proxy:
        registry = RemoteRegistry(proxy.url, retries=4)
        review = reviewed(session, make_model(tmp_path / "tiny"))
        outcome = decide(session, DecisionRequest(review.id, True, "ok"), ada, registry)
        assert outcome.ref
        assert _check(session, registry, outcome.ref) == ["ok"]
        assert sum(1 for _, _, status in proxy.requests if status == 503) >= 5


def test_a_failed_push_leaves_no_tag(session: Session, ada: FileSigner, tmp_path: Path,
                                     distribution: Distribution) -> None:
    def fail_weights(method: str, path: str, n: int) -> int | None:
        return 500 if method == "PUT" and "/blobs/uploads/" in path and n < 200 else None

    state_for(RemoteRegistry(distribution.url), session.workspace)
    review = reviewed(session, make_model(tmp_path / "tiny"))
    with FaultyProxy(distribution.url, fail_weights) as proxy, \
            pytest.raises(RegistryUnreachable, match="curator push"):
        decide(session, DecisionRequest(review.id, True, "ok"), ada, RemoteRegistry(proxy.url, retries=1))
    direct = RemoteRegistry(distribution.url)
    tag = session.ledger.events(review.id, kind="decision")[0]["payload"]["tag"]
    with pytest.raises(NotInRegistry):
        direct.get_manifest("local/tiny", tag)
    pushed = push_review(session, review.id, direct, signer=ada)  # the retry the error advised
    assert _check(session, direct, pushed.ref) == ["ok"]


def test_basic_auth(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = need_module("crypt", "use CPython 3.11 or 3.12 (the stdlib crypt module makes the htpasswd)")
    hashed = crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    if not hashed or not hashed.startswith("$2"):
        missing("bcrypt support in this libc's crypt", "install libxcrypt (Debian's libcrypt1)")
    (tmp_path / "htpasswd").write_text(f"ci:{hashed}\n")
    server = start_distribution(tmp_path / "authed", htpasswd=tmp_path / "htpasswd")
    try:
        state_for(RemoteRegistry(server.url, username="ci", password="s3cret"), session.workspace)
        review = reviewed(session, make_model(tmp_path / "tiny"))
        with pytest.raises(RegistryUnreachable, match="refused access"):  # before anything is signed
            decide(session, DecisionRequest(review.id, True, "ok"), ada, RemoteRegistry(server.url))
        assert session.ledger.events(review.id, kind="decision") == []
        good = RemoteRegistry(server.url, username="ci", password="s3cret")
        done = decide(session, DecisionRequest(review.id, True, "ok"), ada, good)
        assert done.ref is not None
        pushed = push_review(session, review.id, good, signer=ada)  # a re-push signs nothing new
        assert _check(session, good, pushed.ref) == ["ok"]
        env = {"CURATOR_REGISTRY_USERNAME": "ci", "CURATOR_REGISTRY_PASSWORD": "s3cret",
               "CURATOR_CHECKLISTS": str(session.policy.directory)}
        assert cli("verify", pushed.ref, env=env).returncode == 0
        denied = cli("verify", pushed.ref, env={**env, "CURATOR_REGISTRY_PASSWORD": "wrong"})
        assert denied.returncode == 2 and "CURATOR_REGISTRY_USERNAME" in denied.stderr
    finally:
        server.process.terminate()
        server.process.wait(10)


STREAM_CHECK = """
import json, sys
from pathlib import Path


def peak_kib():
    # VmHWM belongs to this process's own memory map; ru_maxrss would inherit the parent's peak across exec
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

from curator.core.models import Candidate, FileEntry, Manifest
from curator.core.hashing import file_sha256
from curator.registry.artifact import build_model
from curator.registry.remote import RemoteRegistry
from curator.registry.transfer import push_model
from curator.registry.interface import Reference
from curator.decision.verify import _check_blobs, VerifyReport
from curator.registry.artifact import read_model
from tests.needs import missing, need_module, missing, need_module
folder, url = Path(sys.argv[1]), sys.argv[2]
size, digest = file_sha256(folder / "big.bin")
manifest = Manifest((FileEntry("big.bin", size, digest),))
artifact = build_model(Candidate("acme/big", "main", "hub", commit="a" * 40), manifest, "a" * 40)
registry = RemoteRegistry(url)
push_model(registry, "acme/big", "aaaaaaaaaaaa", artifact, folder, [])
after_push = peak_kib()
config, layers = read_model(artifact.manifest)
report = VerifyReport("x", url)
_check_blobs(registry, "acme/big", config.digest, config.size, layers, folder / "out", None, report)
print(json.dumps({"push_kib": after_push, "pull_kib": peak_kib(),
                  "problems": [p.code for p in report.problems]}))
"""


def test_blobs_stream_in_bounded_memory(tmp_path: Path, distribution: Distribution) -> None:
    big = tmp_path / "model"
    big.mkdir()
    with open(big / "big.bin", "wb") as fh:
        block = bytes(range(256)) * 4096
        for _ in range(256):  # 256 MiB
            fh.write(block)
    done = subprocess.run([sys.executable, "-c", STREAM_CHECK, str(big), distribution.url],
                          capture_output=True, text=True, check=True, timeout=300)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["problems"] == []
    assert (big / "out" / "big.bin").stat().st_size == 256 << 20
    # a whole-file read would need > 256 MiB; streaming stays near the interpreter's own size
    assert figures["push_kib"] < 160 * 1024 and figures["pull_kib"] < 160 * 1024, figures
