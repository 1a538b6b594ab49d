"""The eval stage inside a whole review: a hub candidate fetched, scanned, carded, evaluated.

The demo's clean sample is built with a real-LM folder (here the tiny GPT-2 standing in for
SmolLM2, whose conversion the bench covers): its card claims SmolLM2's scores, which the
tiny random model cannot reproduce, so the review must say no.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from curator.core.models import Candidate, Status
from curator.core.policy import checklists_dir
from curator.core.workspace import Workspace
from curator.demo import smollm
from curator.demo.hub import HubServer
from curator.demo.samples import REAL_LM_CLAIMS, build_samples
from curator.review.session import Session
from curator.stages.card.claims import claims_from_model_index
from curator.stages.eval.claims import ClaimMap, Mapping


def stand_in_folder(tiny_model: Path, dest: Path) -> Path:
    """A folder shaped like ``smollm_safetensors``' output, holding the tiny model."""
    shutil.copytree(tiny_model, dest)
    (dest / "chat_template.jinja").write_text("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    (dest / smollm.REQUANTIZED).mkdir()  # release v1.2's weights: here the same tiny model
    shutil.copy(dest / "model.safetensors", dest / smollm.REQUANTIZED / "model.safetensors")
    return dest


def test_the_demo_cards_claims_map_to_curators_own_tasks() -> None:
    card = smollm.smollm_card("v1.1", REAL_LM_CLAIMS)
    front = yaml.safe_load(card.split("---")[1])
    claims, problems = claims_from_model_index(front, {}, "README.md")
    assert not problems
    claim_map = ClaimMap.load(checklists_dir())
    assert [claim_map.map(c.to_dict()) for c in claims] == [
        Mapping("curator_basics", "acc", 0), Mapping("curator_completion", "acc_norm", 0)]


def test_review_of_the_clean_sample_evaluates_it_and_checks_its_claims(tiny_model: Path,
                                                                       tmp_path: Path) -> None:
    real_lm = stand_in_folder(tiny_model, tmp_path / "stand-in")
    samples = build_samples(tmp_path / "hub", real_lm=real_lm)
    assert samples[0].description.startswith("Acme Labs' SmolLM2-135M-Instruct")
    assert build_samples(tmp_path / "plain")[0].description.startswith("Acme Labs' tiny GPT-2")
    with HubServer(tmp_path / "hub") as hub:
        session = Session.open(Workspace.open(tmp_path / "home"))
        try:
            review = session.open_review(Candidate(samples[0].repo_id, "main", "hub", endpoint=hub.url))
            results = session.run(review)
        finally:
            session.close()
    assert results["scan"].status == Status.PASSED
    evaluated = results["eval"]
    assert evaluated.status == Status.FAILED
    verdicts = {c["mapped_task"]: c["verdict"] for c in evaluated.evidence["claims"]}
    assert verdicts == {"curator_basics": "not-reproduced", "curator_completion": "not-reproduced"}
    # the loaded files are the pinned ones, and the same claim n-shot as the task: one run only
    assert evaluated.evidence["model"]["manifest_digest"] == results["fetch"].evidence["manifest_digest"]
    assert set(evaluated.evidence["results"]) == {"curator_basics", "curator_completion"}
