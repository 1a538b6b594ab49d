"""The quarterly review's checks of one model (see ``curator.quarterly.run``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.core.errors import LedgerError, RegistryUnreachable
from curator.core.evidence import CardEvidence, EvalEvidence, ScanEvidence
from curator.core.models import StageResult
from curator.inventory.build import RETIRED, Inventory, InventoryEntry, scanners_of
from curator.quarterly.results import Check
from curator.quarterly.settings import AGE_WARN_DAYS, QuarterlySettings

if TYPE_CHECKING:
    from curator.decision.rules import DecisionRules
    from curator.registry.interface import Registry
    from curator.review.session import Session
    from curator.state.client import TrustedState

VERDICT_RANK = {"clean": 0, "unscanned": 1, "blocked": 2}


def _guarded(name: str, work: Callable[[], Check | list[Check]]) -> list[Check]:
    """Run a check; a crash becomes ``errored`` (fail closed), never ``ok``.

    A registry that cannot be reached or a ledger that cannot be written stops the whole
    run instead (exit 2): that says nothing about the model, and every model would error.
    """
    try:
        found = work()
    except (RegistryUnreachable, LedgerError):
        raise
    except Exception as exc:  # noqa: BLE001 - any crash of a check must fail the model, not pass it
        return [Check(name, "errored", f"the {name} check crashed: {type(exc).__name__}: {exc}"[:500])]
    return found if isinstance(found, list) else [found]


def check_model(session: Session, registry: Registry, trusted: TrustedState, rules: DecisionRules,
                settings: QuarterlySettings, inventory: Inventory, entry: InventoryEntry,
                results: dict[str, StageResult], today: dt.date, scratch: Path) -> list[Check]:
    """Every check of one model, in ``CHECKS`` order."""
    checks = _guarded("verify", lambda: verify_and_rescan(session, registry, trusted, rules, settings, entry,
                                                          results, today, scratch))
    checks += _guarded("waiver", lambda: waiver_check(entry, today, settings))
    checks += _guarded("max-age", lambda: age_check(entry, settings))
    checks += _guarded("base-model", lambda: base_check(entry, inventory, settings))
    checks += _guarded("upstream", lambda: upstream_check(entry, results, settings, inventory))
    checks += _guarded("findings", lambda: findings_check(entry, results))
    checks += _guarded("eval", lambda: eval_check(results))
    checks += _guarded("lookalike", lambda: lookalike_check(session, entry, inventory))
    return checks


#: findings at these severities that an approval stood over are flagged every quarter
FLAGGED_SEVERITIES = ("critical", "high")


def findings_check(entry: InventoryEntry, results: dict[str, StageResult]) -> Check:
    """Approved over critical or high findings: which, in which file, and the waiver that let them by."""
    found = [f for name in ("scan", "signature", "card") if name in results for f in results[name].findings
             if f.severity.value in FLAGGED_SEVERITIES]
    if not found:
        return Check("findings", "ok", "approved with no critical or high finding")
    waived = {str(w.get("stage")): w for w in entry.waivers}
    listed = [f"{f.severity.value} {f.code}" + (f" in {f.file}" if f.file else "") + f" ({f.tool})"
              for f in found[:8]]
    waivers = "; ".join(f"{s} waived until {w.get('expires')}: {w.get('reason')}" for s, w in waived.items())
    return Check("findings", "warn", f"approved over {len(found)} critical/high finding(s): "
                 + ", ".join(listed) + (f"; {waivers}" if waivers else ""),
                 {"findings": [f.to_dict() for f in found[:50]]})


def eval_check(results: dict[str, StageResult]) -> Check:
    """Approved without a passing evaluation (not run, skipped, errored or waived)."""
    ran = results.get("eval")
    if ran is None:
        return Check("eval", "warn", "approved without evaluation: the eval stage never ran")
    if ran.status.value != "passed":
        return Check("eval", "warn", f"approved without a passing evaluation: eval {ran.status.value}")
    return Check("eval", "ok", "evaluated: " + ", ".join(sorted(EvalEvidence.of(ran).results))[:300])


def lookalike_check(session: Session, entry: InventoryEntry, inventory: Inventory) -> Check:
    """The model's name against today's inventory (approved, not retired) and trusted publishers."""
    from curator.stages.card.grade import CardSettings
    from curator.stages.card.lookalike import near_misses, trusted_publishers

    if entry.source != "hub":
        return Check("lookalike", "skipped", "a local folder's name is the curator's own choice")
    section = session.policy.section("card")
    settings = CardSettings.from_section(section)
    trusted, _ = trusted_publishers(session.policy.directory, section)
    others = sorted({e.repo_id for e in inventory.entries
                     if e.status != RETIRED and e.repo_id != entry.repo_id})
    misses = near_misses(entry.repo_id, trusted, others, settings.max_distance, settings.short_name)
    if misses:
        said = "; ".join(m.finding().message for m in misses)
        return Check("lookalike", "warn", f"looks like {said}"[:500])
    return Check("lookalike", "ok", f"no look-alike among {len(others)} other model(s) and trusted "
                 "publishers")


def rolled_back_note(entry: InventoryEntry, inventory: Inventory, revision: str) -> str:
    """When ``revision`` of the same repo was approved and then rolled back: say so, with why."""
    for other in inventory.entries:
        if other.repo_id == entry.repo_id and other.revision == revision and other.lifecycle.rolled_back_from:
            back: dict[str, Any] = next((r for r in reversed(other.lifecycle.rollbacks)
                                         if r["from"] == other.manifest_digest), {})
            return (f"{revision[:12]} was approved ({other.ref}, review {other.review_id}) and rolled back "
                    f"on {str(back.get('time', ''))[:10]} by {back.get('curator', '?')}: "
                    f"{back.get('rationale', '')}")
    return ""


def verify_and_rescan(session: Session, registry: Registry, trusted: TrustedState, rules: DecisionRules,
                      settings: QuarterlySettings, entry: InventoryEntry, results: dict[str, StageResult],
                      today: dt.date, scratch: Path) -> list[Check]:
    """The deploy gate on the model's tag, pulling the verified bytes to re-scan them."""
    from curator.decision.verify import pull, verify
    from curator.registry.interface import Reference

    ref = Reference(entry.name, tag=entry.tag)
    dest = scratch / "files"
    scratch.mkdir(parents=True, exist_ok=True)
    if settings.rescan:
        report = pull(registry, ref, dest, trusted, rules)
    else:
        report = verify(registry, ref, trusted, rules, today=today)
    problems = [f"{p.code}: {p.message}" for p in report.problems]
    if report.manifest_digest and report.manifest_digest != entry.manifest_digest and report.ok:
        problems.append(f"tag-moved: {entry.ref} now names {report.manifest_digest}, approved "
                        f"{entry.manifest_digest}")
    if problems or not report.ok:
        message = "; ".join(problems)[:800] or "the registry content was not checked"
        verified = Check("verify", "fail", message, {"problems": [p.code for p in report.problems]})
        return [verified, Check("rescan", "skipped", "the registry bytes did not verify: nothing to re-scan")]
    who = ", ".join(sorted({d["curator"]["name"] for d in report.decisions}))
    verified = Check("verify", "ok", f"{report.files} file(s), {report.bytes / 1e6:.1f} MB match the "
                     f"approved digests; decision signed by {who}", {"seconds": round(report.seconds, 2)})
    if not settings.rescan:
        return [verified, Check("rescan", "skipped", "re-scanning is off (quarterly.rescan)")]
    return [verified, *_guarded("rescan", lambda: rescan(session, entry, results, dest, scratch))]


def rescan(session: Session, entry: InventoryEntry, results: dict[str, StageResult], files_dir: Path,
           scratch: Path) -> Check:
    """Today's scan stage on the verified registry bytes, compared with the approval's scan."""
    from curator.core.progress import Progress
    from curator.core.stage import ReviewContext
    from curator.stages.scan import ScanStage

    old = results.get("scan")
    fetch = results.get("fetch")
    if fetch is None:
        return Check("rescan", "errored", "the approval recorded no fetch manifest to re-scan against")
    ctx = ReviewContext(review_id=entry.review_id, candidate=_candidate(session, entry), files_dir=files_dir,
                        work_dir=scratch, policy=session.policy, results={"fetch": fetch}, ledger=None)
    new = ScanStage().run(ctx, Progress("scan", [], threading.Event()))
    was = {f.path: f.verdict for f in ScanEvidence.of(old).files}
    now = {f.path: f.verdict for f in ScanEvidence.of(new).files}
    changed = [{"path": p, "was": was.get(p, "not scanned"), "now": now.get(p, "not scanned")}
               for p in sorted(set(was) | set(now)) if was.get(p) != now.get(p)]
    versions = {"then": scanners_of(old), "now": scanners_of(new)}
    upgraded = sorted(k for k in versions["now"] if versions["then"].get(k) != versions["now"][k])
    worse = [c for c in changed if VERDICT_RANK.get(c["now"], 3) > VERDICT_RANK.get(c["was"], 3)]
    details = {"changed": changed, "scanners": versions, "status": new.status.value,
               "findings": [f.to_dict() for f in new.findings][:20]}
    tools = ("; scanners " + ", ".join(f"{k} {versions['then'].get(k, '?')} -> {versions['now'][k]}"
                                       for k in upgraded)) if upgraded else "; same scanner versions"
    if new.status.value == "errored":
        why = "; ".join(f.message for f in new.findings)[:400]
        return Check("rescan", "errored", f"today's scan errored: {why}", details)
    if worse:
        return Check("rescan", "fail", "verdicts changed since approval: " + ", ".join(
            f"{c['path']} {c['was']} -> {c['now']}" for c in worse)[:500] + tools, details)
    if changed:
        return Check("rescan", "warn", "verdicts improved since approval: " + ", ".join(
            f"{c['path']} {c['was']} -> {c['now']}" for c in changed)[:500] + tools, details)
    return Check("rescan", "ok", f"{len(now)} file(s), same verdicts as at approval{tools}", details)


def _candidate(session: Session, entry: InventoryEntry) -> Any:
    return session.ledger.get_review(entry.review_id).candidate


def waiver_check(entry: InventoryEntry, today: dt.date, settings: QuarterlySettings) -> Check:
    if not entry.waivers:
        return Check("waiver", "ok", "no waivers")
    expired, soon = [], []
    for w in entry.waivers:
        expires = dt.date.fromisoformat(str(w.get("expires")))
        if expires < today:
            expired.append(f"{w.get('stage')} expired on {expires}")
        elif (expires - today).days <= settings.waiver_warn_days:
            soon.append(f"{w.get('stage')} expires on {expires} ({(expires - today).days} days)")
    if expired:
        return Check("waiver", "fail", "waiver " + "; ".join(expired) + ": re-review the model",
                     {"expired": expired})
    if soon:
        return Check("waiver", "warn", "waiver " + "; ".join(soon), {"soon": soon})
    return Check("waiver", "ok", f"{len(entry.waivers)} waiver(s) valid until "
                 + ", ".join(str(w.get("expires")) for w in entry.waivers))


def age_check(entry: InventoryEntry, settings: QuarterlySettings) -> Check:
    kept = entry.last_action and entry.last_action.get("action") == "keep"
    since = "last signed keep" if kept else "approval"
    if entry.age_days > settings.max_age_days:
        return Check("max-age", "fail", f"{entry.age_days} days since {since}, over the policy's "
                     f"{settings.max_age_days}: re-review it or record a keep with a rationale")
    if entry.age_days > settings.max_age_days - AGE_WARN_DAYS:
        return Check("max-age", "warn", f"{entry.age_days} days since {since}; due at "
                     f"{settings.max_age_days}")
    return Check("max-age", "ok", f"{entry.age_days} days since {since} (max {settings.max_age_days})")


def base_check(entry: InventoryEntry, inventory: Inventory, settings: QuarterlySettings) -> Check:
    if not entry.bases:
        return Check("base-model", "ok", "no base model declared")
    active = {e.repo_id for e in inventory.entries if e.status != RETIRED}
    retired = {e.repo_id: e for e in inventory.entries if e.status == RETIRED and e.repo_id not in active}
    gone = []
    for base in entry.bases:
        if base in settings.retired_base_models:
            gone.append(f"{base} (listed in quarterly.retired_base_models)")
        elif base in retired:
            action = retired[base].last_action or {}
            when = str(action.get("time") or "")[:10]
            gone.append(f"{base} (retired {when}: {action.get('rationale', '')})")
    if gone:
        return Check("base-model", "fail", "base model retired: " + "; ".join(gone)[:500])
    return Check("base-model", "ok", "base model(s) not retired: " + ", ".join(entry.bases))


def upstream_check(entry: InventoryEntry, results: dict[str, StageResult],
                   settings: QuarterlySettings, inventory: Inventory | None = None) -> Check:
    from curator.quarterly.upstream import upstream_facts

    if not settings.check_upstream:
        return Check("upstream", "skipped",
                     "upstream checks are off (quarterly.check_upstream or --no-upstream)")
    if entry.source != "hub":
        return Check("upstream", "skipped", "a local folder has no upstream to ask")
    card = results.get("card")
    card_sha = CardEvidence.of(card).card.sha256
    facts = upstream_facts(entry, card_sha, settings.upstream_timeout_seconds)
    message = str(facts.pop("message"))
    newest = str(facts.get("newest") or "")
    moved = bool(inventory) and bool(newest) and newest != entry.revision
    note = rolled_back_note(entry, inventory, newest) if moved and inventory else ""
    if note:
        facts["rolled_back"] = note
        message += f"; the newer revision is not new to curator: {note}"
    return Check("upstream", str(facts.pop("outcome")), message, facts)
