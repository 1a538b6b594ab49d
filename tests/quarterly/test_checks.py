"""The quarterly checks one by one, in process, against real reviews, decisions and registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.core.errors import UsageError
from curator.core.policy import Policy
from curator.decision.rules import DecisionRules
from curator.quarterly.run import QuarterlyRun, QuarterlySettings, run_quarterly
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from tests.decision.helpers import curator, gate, open_session
from tests.export.conftest import Adoptions
from tests.export.helpers import adopt, checklists, model_folder


def _run(session: Session, today: dt.date | None = None, record: bool = True) -> QuarterlyRun:
    registry = LayoutRegistry(session.workspace.registry_dir)
    return run_quarterly(session, registry, gate(session, registry),
                         DecisionRules.from_policy(session.policy), today=today, record=record)


def _check(run: QuarterlyRun, ref: str, name: str) -> Any:
    model = next(m for m in run.models if m.entry.ref == ref)
    return next(c for c in model.checks if c.name == name), model


def _with(folder: Path, section: str, **values: object) -> Path:
    data = yaml.safe_load((folder / "default.yaml").read_text())
    data.setdefault(section, {}).update(values)
    (folder / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def test_waivers_warn_before_and_fail_after_their_expiry(adopted: Adoptions) -> None:
    decision = adopted.session.ledger.events(adopted.second.review_id, kind="decision")[-1]["payload"]
    waiver = decision["waivers"][0]
    expires = dt.date.fromisoformat(waiver["expires"])
    check, model = _check(_run(adopted.session, expires - dt.timedelta(days=10), record=False),
                          adopted.second.ref, "waiver")
    assert check.outcome == "warn" and "10 days" in check.message and model.outcome == "warn"
    check, model = _check(_run(adopted.session, expires + dt.timedelta(days=1)), adopted.second.ref, "waiver")
    assert check.outcome == "fail" and f"expired on {expires}" in check.message
    assert model.outcome == "fail" and model.failed == ["waiver"]
    first, _ = _check(_run(adopted.session, expires + dt.timedelta(days=1), record=False), adopted.first.ref,
                      "waiver")
    assert first.outcome == "ok" and first.message == "no waivers"


def test_models_past_the_policy_max_age_fail(adopted: Adoptions) -> None:
    run = _run(adopted.session, dt.date.today() + dt.timedelta(days=366), record=False)
    check, _ = _check(run, adopted.first.ref, "max-age")
    assert check.outcome == "fail" and "366 days since approval, over the policy's 365" in check.message
    soon, _ = _check(_run(adopted.session, dt.date.today() + dt.timedelta(days=340), record=False),
                     adopted.first.ref, "max-age")
    assert soon.outcome == "warn"


def test_a_base_model_listed_as_retired_in_policy_fails(adopted: Adoptions) -> None:
    _with(adopted.checklists, "quarterly", retired_base_models=["acme-labs/tinyllama-base"])
    session = open_session(adopted.checklists)
    try:
        check, model = _check(_run(session, record=False), adopted.first.ref, "base-model")
    finally:
        session.close()
    assert check.outcome == "fail" and "quarterly.retired_base_models" in check.message
    assert model.failed == ["base-model"]


def test_a_check_that_cannot_run_errors_and_fails_even_outside_fail_on(adopted: Adoptions) -> None:
    _with(adopted.checklists, "quarterly", fail_on=[])
    session = open_session(adopted.checklists)
    try:
        session.ledger.discard_result(adopted.first.review_id, "fetch")
        check, model = _check(_run(session, record=False), adopted.first.ref, "rescan")
    finally:
        session.close()
    assert check.outcome == "errored" and "no fetch manifest" in check.message
    assert model.outcome == "fail" and model.failed == ["rescan"]


def test_unknown_quarterly_keys_are_refused(adopted: Adoptions) -> None:
    _with(adopted.checklists, "quarterly", max_agee_days=3)
    with pytest.raises(UsageError,
                       match=r"quarterly\.max_agee_days is not a known key; did you mean 'max_age_days'"):
        QuarterlySettings.from_policy(Policy.load(adopted.checklists))


def test_rescan_shows_a_verdict_that_changed_since_approval(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # approved while low findings did not block; today's policy blocks them
    folder = checklists(tmp_path / "checklists")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(folder))
    session = open_session(folder)
    signer = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
    model = model_folder(tmp_path / "with-pickle", "with-pickle")
    # a pickle that only names an unlisted class (GLOBAL + STOP): a low finding, never loaded
    (model / "extra.pkl").write_bytes(b"\x80\x02cmymodule\nMyClass\nq\x00.")
    approved = adopt(session, model, signer)
    session.close()
    _with(folder, "scan", block_severities=["low", "medium", "high", "critical"])
    today = open_session(folder)
    try:
        run = _run(today)
        check, result = _check(run, approved.ref, "rescan")
    finally:
        today.close()
    assert check.outcome == "fail" and "extra.pkl clean -> blocked" in check.message
    assert check.details["changed"] == [{"path": "extra.pkl", "was": "clean", "now": "blocked"}]
    assert check.details["scanners"]["then"]["picklescan"] == check.details["scanners"]["now"]["picklescan"]
    assert result.failed == ["rescan"] and not run.ok
