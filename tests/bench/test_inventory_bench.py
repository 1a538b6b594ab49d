"""The security lead's outputs at the scale of a real organisation: ``curator inventory --json``
and ``curator bom`` over 1,000 approved models, against reading the same ledger's rows alone.

One model is adopted for real (fetch, scan and card run on a local folder, an eval result
recorded, a signed approval, a push into the workspace's OCI layout, the signed state). The
other 999 are synthesized from it, as the ledger would hold them after 999 more adoptions: a
review each (its own repo id), its stage results with its own file digests, the final
approval, the push and the production move; a manifest of its own in the OCI layout (tagged
and in production) and a target in the signed state. Only the reviews are not re-run: the
outputs read the ledger, the layout's tag list and the signed state, never the files.

Each command then runs as a user runs it, a fresh process each time (median of 3), and so does
the reference: a process that opens the workspace's ledger and reads every event and every
stage result in one read each (the rows any ledger-based output has to read, and the interpreter
start every command pays). Target: 2 s each for 1,000 models on an otherwise idle machine of this
kind (2 cores). Wall and CPU time (user + sys of the process) are printed, with the ratio to the
reference, and whether the target was met. The bench fails when a command's CPU time exceeds
``GUARD`` times the reference's (CPU time being what a machine shared with other work disturbs
least): a regression guard at what this code measured, looser than the target, which
``inventory`` meets and ``bom`` does not yet (see the README's Performance section).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from curator.core.events import DecisionMade, ProductionMoved, Pushed
from curator.core.models import StageResult
from curator.decision.signed_state import sign_state_change, trusted_state
from curator.registry.artifact import repository_name
from curator.registry.interface import MANIFEST_TYPE, sha256_digest
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from curator.state import content
from tests.decision.helpers import curator, open_session
from tests.export.helpers import adopt, checklists, model_folder

MODELS = int(os.environ.get("CURATOR_BENCH_MODELS", "1000"))
TARGET_S = 2.0
#: each command's CPU time within this many times the reference's (reading the ledger's rows)
GUARD = 6.0

REFERENCE = """
import json, sys
from curator.core.workspace import Workspace
from curator.core.policy import Policy
from curator.ledger import open_ledger
ledger = open_ledger(Workspace.open(sys.argv[1]), Policy.load())
events = ledger.events()
results = ledger.results_of(r.id for r in ledger.reviews())
ledger.close()
print(json.dumps({"events": len(events), "results": sum(len(r) for r in results.values())}))
"""


def _hex(i: int, old: str) -> str:
    return hashlib.sha256(f"{i}:{old}".encode()).hexdigest()


def _digests(results: dict[str, StageResult]) -> list[str]:
    """Every sha256 hex the template's results name (its files and its manifest)."""
    import re

    text = json.dumps([r.to_dict() for r in results.values()])
    return sorted(set(re.findall(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", text)))


def _clone_results(results: dict[str, StageResult], i: int, repo_id: str, new_repo: str,
                   digests: list[str]) -> list[StageResult]:
    """The template's results as model ``i``'s: its own repo id and file digests."""
    text = json.dumps({k: r.to_dict() for k, r in results.items()}).replace(repo_id, new_repo)
    for old in digests:
        text = text.replace(old, _hex(i, old))
    return [StageResult.from_dict(d) for d in json.loads(text).values()]


def _synthesize(session: Session, registry: LayoutRegistry, review_id: str, signer: Any) -> None:
    """999 more approved models in the ledger, the layout and the signed state (see the docstring)."""
    ledger = session.ledger
    template = ledger.get_review(review_id)
    results = ledger.results(review_id)
    digests = _digests(results)
    final = [e.event for e in ledger.read(DecisionMade, review_id) if e.event.final == "approved"][-1]
    pushed = ledger.read(Pushed, review_id)[-1].event
    promoted = [e.event for e in ledger.read(ProductionMoved) if e.event.name == final.name][-1]
    body, _ = registry.get_manifest(final.name, pushed.digest)
    manifest = json.loads(body)
    approved = trusted_state(registry, session.policy, session.workspace.home / "state").state.approved()
    custom = dict(approved[f"{final.name}@{pushed.digest}"].unrecognized_fields["custom"])
    made: list[tuple[str, str, str, int]] = []
    for i in range(1, MODELS):
        repo = f"org{i % 40}/model-{i:04d}"
        name = repository_name(repo)
        manifest["annotations"] = {**manifest.get("annotations", {}), "org.curator.bench": str(i)}
        own = json.dumps(manifest, sort_keys=True).encode()
        digest = sha256_digest(own)
        registry.put_manifest(name, own, MANIFEST_TYPE, final.tag)
        registry.put_manifest(name, own, MANIFEST_TYPE, promoted.tag)
        review = ledger.create_review(replace(template.candidate, repo_id=repo))
        for result in _clone_results(results, i, template.candidate.repo_id, repo, digests):
            ledger.save_result(review.id, result)
        ledger.record(replace(final, name=name, subject_digest=digest, decision_id=f"bench-{i:04d}",
                              rationale=f"bench model {i}"), review.id)
        ledger.set_state(review.id, "approved")
        ref = f"{name}:{final.tag}"
        ledger.record(replace(pushed, ref=ref, digest_ref=f"{name}@{digest}", digest=digest), review.id)
        ledger.record(replace(promoted, ref=f"{name}:{promoted.tag}", name=name, digest=digest,
                              previous=None, review_id=review.id))
        made.append((name, digest, final.tag, len(own)))

    def many(targets: Any) -> None:
        for name, digest, tag, length in made:
            content.approve(targets, name, digest, length, tag, {**custom, "review_id": "bench"}, True)

    sign_state_change(session, registry, many, [signer], "bench")


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(args: list[str], env: dict[str, str], runs: int = 3) -> tuple[float, float, str]:
    """Median wall and CPU seconds of ``python ARGS`` in a fresh process, and its stdout."""
    walls, cpus, out = [], [], ""
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu()
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                              timeout=600, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout
    return statistics.median(walls), statistics.median(cpus), out


def test_inventory_and_bom_of_a_thousand_models_vs_reading_the_ledger(tmp_path: Path) -> None:
    lists = checklists(tmp_path / "checklists")
    session = open_session(lists)
    started = time.perf_counter()
    try:
        signer = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        registry = LayoutRegistry(session.workspace.registry_dir)
        first = adopt(session, model_folder(tmp_path / "models" / "model-0000", "model-0000"), signer)
        _synthesize(session, registry, first.review_id, signer)
    finally:
        session.close()
    print(f"\n{MODELS} approved models in the ledger, layout and signed state in "
          f"{time.perf_counter() - started:.0f} s")
    env = {**os.environ, "CURATOR_CHECKLISTS": str(lists)}
    home = os.environ["CURATOR_HOME"]

    reference_s, reference_cpu, out = _timed(["-c", REFERENCE, home], env)
    read = json.loads(out)
    assert read["results"] >= 4 * MODELS
    inventory_s, inventory_cpu, out = _timed(["-m", "curator", "inventory", "--json"], env)
    models = json.loads(out)["models"]
    assert len(models) == MODELS and {m["status"] for m in models} == {"approved"}, \
        {m["status"]: m["reasons"] for m in models if m["status"] != "approved"}
    assert len({m["manifest_digest"] for m in models}) == MODELS
    bom = tmp_path / "bom.json"
    bom_s, bom_cpu, _ = _timed(["-m", "curator", "bom", "-o", str(bom)], env)
    document = json.loads(bom.read_text())
    assert document["specVersion"] == "1.6"
    assert len([c for c in document["components"] if c["type"] == "machine-learning-model"]) == MODELS

    print(f"reading the ledger's {read['events']} events and {read['results']} stage results "
          f"(reference): {reference_s:.2f} s wall, {reference_cpu:.2f} s CPU")
    for what, wall, cpu in (("curator inventory --json", inventory_s, inventory_cpu),
                            ("curator bom", bom_s, bom_cpu)):
        print(f"{what}, {MODELS} models: {wall:.2f} s wall ({wall / reference_s:.1f}x the reference), "
              f"{cpu:.2f} s CPU ({cpu / reference_cpu:.1f}x); median of 3; target {TARGET_S} s "
              f"{'met' if wall < TARGET_S else 'not met'}; guard: CPU at most {GUARD}x")
    assert inventory_cpu / reference_cpu < GUARD and bom_cpu / reference_cpu < GUARD
