"""Three adopted models whose lives differ, for the AI-BOM, inventory and report tests.

- ``waived``: a model with an ``os.system('true')`` pickle (critical scan findings), approved
  over them with a signed scan waiver and an errored eval waived;
- ``swapped``: ``local/tiny-swap`` approved under a condition, then a second revision approved
  as its swap (justification, rollback plan), then production rolled back to the first;
- ``retired``: approved, then retired by a signed quarterly action.

Every stage except eval runs for real on local folders (eval is recorded as the stage
records it, see ``helpers.eval_result``); decisions are signed with real keys, pushed into
the workspace's OCI layout; rollback and retire are the real change-control code paths.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner
from curator.changes.rollback import rollback
from curator.core.models import Status
from curator.decision.decide import DecisionRequest, decide
from curator.decision.rules import DecisionRules
from curator.decision.signed_state import trusted_state
from curator.decision.swap import SwapRequest
from curator.inventory.build import build_inventory
from curator.quarterly.actions import ActionRequest, record_action
from curator.quarterly.run import run_quarterly
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from tests.decision.helpers import curator, isolated_checklists, open_session, reviewed
from tests.export.helpers import eval_result, model_folder
from tests.scan.pickles import os_system_call

SCAN_WAIVER = "reviewed optimizer.pkl: legacy optimizer state, never loaded in production"
CONDITION = "internal chat assistant only, no customer data"
JUSTIFICATION = "v2 fixes the tokenizer"
ROLLBACK_PLAN = "curator rollback local/tiny-swap"
ROLLBACK_WHY = "v2 answers worse on the support set"
RETIRE_WHY = "superseded by an in-house model"
STAGES = ["fetch", "scan", "signature", "card", "eval"]


@dataclass(frozen=True)
class Model:
    review_id: str
    ref: str
    digest: str


@dataclass
class Three:
    home: Path
    checklists: Path
    session: Session
    signer: FileSigner
    waived: Model
    swap_v1: Model
    swap_v2: Model
    retired: Model
    quarterly_run: str

    @property
    def registry(self) -> LayoutRegistry:
        return LayoutRegistry(self.session.workspace.registry_dir)


def _checklists(dest: Path) -> Path:
    import yaml

    # a one-person team's fixture: the opener may approve; the waived critical findings still
    # need two curators (decision.critical_waiver_approvals)
    folder = isolated_checklists(dest, STAGES, separation_of_duties=False)
    data = yaml.safe_load((folder / "default.yaml").read_text())
    data.setdefault("quarterly", {}).update({"check_upstream": False})
    (folder / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def _approve(
    session: Session,
    folder: Path,
    signer: FileSigner,
    *,
    waivers: dict[str, str] | None = None,
    evaluated: bool = True,
    conditions: tuple[str, ...] = (),
    swap: SwapRequest | None = None,
    second: FileSigner | None = None,
) -> Model:
    review = reviewed(session, folder, only=["fetch", "scan", "signature", "card"])
    result = eval_result()
    if not evaluated:
        result = dataclasses.replace(result, status=Status.ERRORED, evidence={"error": "no GPU"})
    session.ledger.save_result(review.id, result)
    results = session.ledger.results(review.id)
    asked = dict(waivers or {})
    for name in STAGES:
        if results[name].status.value in ("failed", "errored") and name not in asked:
            asked[name] = f"{name} accepted for the test"
    outcome = decide(
        session,
        DecisionRequest(
            review.id,
            True,
            f"fit for internal use ({folder.parent.name})",
            asked,
            conditions=conditions,
            swap=swap or SwapRequest(),
        ),
        signer,
        LayoutRegistry(session.workspace.registry_dir),
    )
    if outcome.outcome == "pending" and second is not None:  # a waived critical finding: two curators
        outcome = decide(session, DecisionRequest(review.id, True, "second look: fit for internal use", asked,
                                                  conditions=conditions, swap=swap or SwapRequest()),
                         second, LayoutRegistry(session.workspace.registry_dir))
    assert outcome.ref is not None
    return Model(review.id, outcome.ref, outcome.manifest_digest)


def build_three(root: Path) -> Three:
    """Adopt, swap, roll back, retire, then run a quarterly review (recorded)."""
    folder = _checklists(root / "checklists")
    os.environ["CURATOR_CHECKLISTS"] = str(folder)
    session = open_session(folder)
    signer = curator(session.workspace, root / "ada-keys", "Ada Lovelace", "ada@example.org")
    bob = curator(session.workspace, root / "bob-keys", "Bob Babbage", "bob@example.org")
    bad = model_folder(root / "waived" / "tiny-waived", "tiny-waived", seed=1)
    (bad / "optimizer.pkl").write_bytes(os_system_call())
    waived = _approve(
        session, bad, signer, waivers={"scan": SCAN_WAIVER, "eval": "eval box down"}, evaluated=False,
        second=bob,
    )
    v1 = _approve(
        session, model_folder(root / "v1" / "tiny-swap", "tiny-swap", seed=2), signer, conditions=(CONDITION,)
    )
    v2 = _approve(
        session,
        model_folder(root / "v2" / "tiny-swap", "tiny-swap", seed=3),
        signer,
        swap=SwapRequest(justification=JUSTIFICATION, rollback_plan=ROLLBACK_PLAN),
    )
    registry = LayoutRegistry(session.workspace.registry_dir)
    trusted = trusted_state(registry, session.policy, session.workspace.home / "state")
    rollback(session, registry, "local/tiny-swap", signer, trusted, v1.ref, ROLLBACK_WHY)
    gone = _approve(session, model_folder(root / "old" / "tiny-old", "tiny-old", seed=4), signer)
    entry = build_inventory(session, registry).find(gone.ref)
    record_action(session, entry, ActionRequest("retire", RETIRE_WHY), signer, registry)
    run = run_quarterly(session, registry, trusted, DecisionRules.from_policy(session.policy), upstream=False)
    return Three(Path(os.environ["CURATOR_HOME"]), folder, session, signer, waived, v1, v2, gone, run.run_id)


@pytest.fixture(scope="module")
def three_built(tmp_path_factory: pytest.TempPathFactory) -> Three:
    root = tmp_path_factory.mktemp("three")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATOR_HOME", str(root / "home"))
        mp.delenv("CURATOR_REGISTRY", raising=False)
        built = build_three(root)
        mp.setenv("CURATOR_CHECKLISTS", str(built.checklists))
    return built


@pytest.fixture
def three(three_built: Three, monkeypatch: pytest.MonkeyPatch) -> Three:
    """The module's three models, with this test's environment pointing at their workspace."""
    monkeypatch.setenv("CURATOR_HOME", str(three_built.home))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(three_built.checklists))
    return three_built
