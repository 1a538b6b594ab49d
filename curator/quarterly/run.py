"""The quarterly review: walk every adopted model and check that it still deserves its approval.

Per model: ``verify`` (registry bytes and decision signatures, streamed and hashed, the
deploy gate's own code), ``rescan`` (the registry's bytes with today's scanners, compared
with the verdicts and scanner versions recorded at approval), ``waiver`` (expired or about
to), ``max-age`` (since approval or the last signed keep), ``base-model`` (a declared base
that was retired) and ``upstream`` (newer revision, changed card or license, when the hub
answers within the time limit). A check that crashes is ``errored``: it fails the model,
whatever ``fail_on`` says. Every model's outcome is recorded in the ledger
(``quarterly_check``), and the run itself (``quarterly_run``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from curator.core.events import ModelRechecked, QuarterlyRunFinished
from curator.inventory.build import RETIRED, Inventory, build_inventory
from curator.quarterly.checks import check_model
from curator.quarterly.results import Check as Check
from curator.quarterly.results import ModelResult as ModelResult
from curator.quarterly.results import QuarterlyRun as QuarterlyRun
from curator.quarterly.settings import AGE_WARN_DAYS as AGE_WARN_DAYS
from curator.quarterly.settings import CHECKS as CHECKS
from curator.quarterly.settings import KEYS as KEYS
from curator.quarterly.settings import QuarterlySettings as QuarterlySettings

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules
    from curator.registry.interface import Registry
    from curator.review.session import Session
    from curator.state.client import TrustedState



def scanner_versions(policy: Policy) -> dict[str, str]:
    """Versions of the scanners the policy runs, as installed today."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in policy.section("scan").get("scanners", []):
        try:
            found[str(name)] = version(str(name))
        except PackageNotFoundError:
            found[str(name)] = "not installed"
    return found


OnModel = Callable[[int, int, ModelResult], None]


def run_quarterly(session: Session, registry: Registry, trusted: TrustedState | Callable[[], TrustedState],
                  rules: DecisionRules, *,
                  today: dt.date | None = None, upstream: bool | None = None, record: bool = True,
                  on_model: OnModel | None = None, cancel: threading.Event | None = None) -> QuarterlyRun:
    """Check every non-retired model of the inventory; record each outcome in the ledger.

    ``trusted`` may be a function reading the signed state: called only when there is a
    model to check (an empty inventory needs no root of trust)."""

    today = today or dt.date.today()
    settings = QuarterlySettings.from_policy(session.policy)
    if upstream is not None:
        settings = replace(settings, check_upstream=upstream)
    inventory: Inventory = build_inventory(session, registry, today)
    run = QuarterlyRun(uuid.uuid4().hex[:12], today, registry.location, scanner_versions(session.policy))
    active = [e for e in inventory.entries if e.status != RETIRED]
    run.skipped_retired = len(inventory.entries) - len(active)
    # the TUF client workflow runs once, and only when there is a model to check
    gate = (trusted() if callable(trusted) else trusted) if active else None
    scratch = Path(tempfile.mkdtemp(prefix=f"quarterly-{run.run_id}-", dir=session.workspace.cache_dir))
    try:
        for n, entry in enumerate(active, 1):
            if cancel is not None and cancel.is_set():
                break
            results = inventory.results.get(entry.review_id, {})
            assert gate is not None  # set whenever there is an active model
            checks = check_model(session, registry, gate, rules, settings, inventory, entry, results,
                                 today, scratch / str(n))
            result = ModelResult(entry, tuple(checks), settings.fail_on)
            run.models.append(result)
            if record:
                session.ledger.record(ModelRechecked(
                    run.run_id, entry.ref, result.outcome, tuple(result.failed),
                    tuple({"name": c.name, "outcome": c.outcome, "message": c.message[:500]}
                          for c in checks)),
                    entry.review_id)
            if on_model is not None:
                on_model(n, len(active), result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.finished = time.time()
    if record:
        session.ledger.record(QuarterlyRunFinished(run.run_id, today.isoformat(), run.counts(),
                                                   run.scanners_now, run.registry))
    return run
