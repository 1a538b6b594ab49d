"""Push and verified-pull throughput, as a ratio of raw hashing speed of the same bytes.

Reported, never asserted on timing: ``make bench`` prints the figures. Raw hashing is
single-core ``hashlib.file_digest`` over the same files (the floor every verified transfer
must pay); push = streaming upload with hashing and post-upload checks; verified pull =
decision check plus streaming download, hashing and writing every file.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from curator.decision.decide import DecisionRequest, decide, push_review
from curator.decision.rules import DecisionRules
from curator.decision.verify import pull, verify
from curator.registry.interface import Reference, Registry
from curator.registry.layout import LayoutRegistry
from curator.registry.remote import RemoteRegistry
from curator.state.store import StateStore
from tests.decision.helpers import curator, gate, isolated_checklists, open_session, reviewed, state_for
from tests.registry.conftest import start_distribution

MIB = 1 << 20
TOTAL = 1024 * MIB
FILES = 4


def _write_model(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bench"}\n')
    paths = []
    for i in range(FILES):
        path = folder / f"model-{i:05d}-of-{FILES:05d}.safetensors"
        block = os.urandom(16 * MIB)
        with open(path, "wb") as fh:
            for _ in range(TOTAL // FILES // len(block)):
                fh.write(block)
        paths.append(path)
    return paths


def _best(fn: Callable[[], object], runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _hash_all(paths: list[Path]) -> None:
    for p in paths:
        with open(p, "rb") as fh:
            hashlib.file_digest(fh, "sha256")


def test_push_and_verified_pull_vs_raw_hashing(tmp_path: Path) -> None:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    session = open_session(checklists)
    ada = curator(session.workspace, tmp_path / "ada", "Bench", "bench@example.org")
    paths = _write_model(tmp_path / "bench-model")
    review = reviewed(session, tmp_path / "bench-model")
    decide(session, DecisionRequest(review.id, True, "bench"), ada, None)  # approve, push below
    rules = DecisionRules.from_policy(session.policy)
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    os.sync()  # let writeback of the fresh files finish before timing anything
    raw = _best(lambda: _hash_all(paths), runs=3)
    lines = [f"registry bench: {size_mb:.0f} MB in {FILES} files; raw sha256 (1 core) "
             f"{size_mb / raw:.0f} MB/s"]
    try:
        server = start_distribution(tmp_path / "distribution")
    except pytest.skip.Exception:
        server = None
    targets: list[tuple[str, Callable[[int], Registry]]] = [
        ("layout", lambda i: LayoutRegistry(tmp_path / f"layout{i}"))]
    if server is not None:
        targets.append(("docker-registry", lambda i: RemoteRegistry(server.url)))
    try:
        for label, make in targets:
            pushes = []
            for i in range(2):  # a fresh layout / repository each time: nothing to skip
                registry = make(i)
                if label != "layout":
                    session.policy.data.setdefault("registry", {})["namespace"] = f"bench{i}"
                if StateStore(registry).get("root.json") is None:
                    state_for(registry, session.workspace)
                start = time.perf_counter()
                pushed = push_review(session, review.id, registry, signer=ada)
                pushes.append(time.perf_counter() - start)
                assert pushed.uploaded_bytes >= TOTAL
            ref = Reference.parse(pushed.ref.split("/", 1)[1] if label != "layout" else pushed.ref)
            trusted = gate(session, registry)
            check = _best(lambda r=registry, f=ref, t=trusted: verify(r, f, t, rules))  # type: ignore[misc]
            outs = iter(tmp_path / f"pulled-{label}-{n}" for n in range(2))
            fetched = _best(lambda r=registry, f=ref, o=outs, t=trusted: pull(  # type: ignore[misc]
                r, f, next(o), t, rules))
            assert verify(registry, ref, trusted, rules).ok
            push_s = min(pushes)
            lines.append(
                f"  {label:16s} push {size_mb / push_s:6.0f} MB/s ({raw / push_s:.2f}x hashing)   "
                f"verify {size_mb / check:6.0f} MB/s ({raw / check:.2f}x)   "
                f"verified pull {size_mb / fetched:6.0f} MB/s ({raw / fetched:.2f}x)")
    finally:
        if server is not None:
            server.process.terminate()
            server.process.wait(10)
        session.close()
    print("\n" + "\n".join(lines))
