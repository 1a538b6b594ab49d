"""The approval report as Markdown, for pasting into a ticket (GitHub-flavoured tables)."""

from __future__ import annotations

from typing import Any

from curator.export import sections as s
from curator.export.approval import ApprovalReport
from curator.export.markdown import code, table
from curator.export.markdown import text as _c

# every value below comes from a candidate, a hub, a scanner or a curator: it goes through
# _c (literal text) or code (a code span); only the report's own words are Markdown


def _interval(row: dict[str, Any]) -> str:
    return f"{s.fmt(row['low'])} – {s.fmt(row['high'])}"


def _head(r: ApprovalReport) -> list[str]:
    c = r.review.candidate
    pin = r.revision
    out = [f"# {_c(r.final.upper())}: {_c(c.repo_id)}@{_c(pin.split(':')[-1][:12])}", ""]
    for d in r.decisions:
        sig = d.signature
        who = f"{d.curator.get('name')} <{d.curator.get('email')}>"
        out += [f"- **{_c(d.outcome)}** by {_c(who)} on {_c(d.time)}, decision {code(d.decision_id)}, "
                f"signature **{_c(sig['status'])}** ({_c(sig['message'])})",
                f"  - rationale: {_c(d.rationale)}"]
    if not r.decisions:
        out.append("- no decision has been signed on this review yet")
    out.append("")
    waivers = s.waiver_rows(r)
    if waivers:
        out += ["**Waivers**", "", *table(["stage", "waived status", "reason", "expires", "signed by"],
                                          [[w["stage"], w["status"], w["reason"], w["expires"], w["by"]]
                                           for w in waivers])]
    if r.conditions:
        out += ["**Conditions**", "", *[f"- {_c(x)}" for x in r.conditions], ""]
    changes = s.change_rows(r)
    if changes:
        out += ["**Change control**", "", *table(["", ""], [[k, v] for k, v in changes])]
    rollbacks = s.rollback_rows(r)
    if rollbacks:
        out += ["**Rollbacks of this name**", "", *table(
            ["when", "by", "from", "to", "why"],
            [[x["time"], x["curator"], code(x["from"]), code(x["to"]), x["rationale"]] for x in rollbacks])]
    pushed = r.pushed or {}
    facts = [["review", code(r.review.id)], ["revision", code(pin)],
             ["source", f"{c.source} {c.endpoint or c.path or ''}"], ["recommendation", r.recommendation],
             ["policy", r.policy_version], ["registry ref", code(pushed.get("ref", "not pushed"))],
             ["manifest digest", code(pushed.get("digest", "-"))]]
    return [*out, "", *table(["", ""], facts)]


def _evidence(r: ApprovalReport) -> list[str]:
    out = ["## Stages", "", *table(["stage", "status", "findings", "worst finding"],
                                   [[x["stage"], x["status"], x["findings"], x["worst"][:160]]
                                    for x in s.stage_rows(r)])]
    out += ["## Manifest", "", *table(["path", "size", "sha256", "checked against"],
                                      [[code(m["path"]), s.human_size(m["size"]), code(m["sha256"]),
                                        m["check"]] for m in s.manifest_rows(r)], "_fetch did not run_")]
    out += ["## Scan", "", *table(["file", "format", "verdict"],
                                  [[code(f["path"]), f["format"], f["verdict"]] for f in s.file_verdicts(r)],
                                  "_scan did not run_")]
    for sc in s.scanners(r):
        out += [f"### {_c(sc['scanner'])} {_c(sc['version'])} ({_c(sc['status'])})", ""]
        out += table(["severity", "code", "file", "message"],
                     [[f["severity"], code(f["code"]), f.get("file"), f["message"]] for f in sc["findings"]],
                     "_no findings_")
    sig = s.signature(r)
    signer = ", ".join(f"{k}: {v}" for k, v in sig["signer"].items()) or "none"
    out += ["## Signature and trust", "", *table(["", ""], [
        ["status", sig["status"]], ["signer", signer], ["trust decision", sig["trust"]], ["why", sig["why"]],
        ["error", sig["error"] or ""]])]
    facts = s.card_facts(r)
    bases = ", ".join(f"{b['repo_id']} ({'approved' if b['approved'] else 'not approved'})"
                      for b in facts["bases"]) or "none declared"
    out += ["## Model card and provenance", "",
            f"- license: **{_c(facts['license'] or 'none')}** ({_c(facts['license_verdict'])})",
            f"- lineage: {_c(facts['relation'] or 'none')}: {_c(bases)}", "", "### Claims in the card", "",
            *table(["task", "metric", "dataset", "claimed", "card line", "eval verdict"],
                   [[c["task"], c["metric"], c["dataset"], s.fmt(c["claimed"]), c["line"] or "-",
                     c["verdict"]]
                    for c in s.claims(r)], "_the card claims no score_")]
    for f in s.provenance(r):
        out += [f"### {_c(f['title'])}: {_c(f['status'])}", "", f"_{_c(f['note'])}_" if f["note"] else "", ""]
        out += [f"> {_c(ex['excerpt'])} — {_c(ex['location'])}"
                + (f", line {_c(ex['line'])}" if ex["line"] else "") for ex in f["excerpts"]]
        out.append("")
    return out


def _eval_and_after(r: ApprovalReport) -> list[str]:
    out = ["## Evaluation: measured vs claimed", ""]
    out += table(["task", "metric", "claimed", "measured", "± stderr", "95% interval", "verdict"],
                 [[c["task"], c["metric"], s.fmt(c["claimed"]), s.fmt(c["measured"]), s.fmt(c["stderr"]),
                   _interval(c), c["verdict"]] for c in s.eval_claims(r)], "_the card claims no score_")
    out += table(["task", "metric", "value", "± stderr", "95% interval"],
                 [[x["task"], x["metric"], s.fmt(x["value"]), s.fmt(x["stderr"]), _interval(x)]
                  for x in s.eval_results(r)], "_no measured scores_")
    out += ["## Waivers", "", *table(["stage", "waived status", "reason", "expires", "signed by"],
                                     [[w["stage"], w["status"], w["reason"], w["expires"], w["by"]]
                                      for w in s.waiver_rows(r)], "_no waiver_")]
    ch = r.chain
    state = "ok" if ch.get("ok") else f"BROKEN (first bad row {ch.get('first_bad')}: {ch.get('reason')})"
    out += ["## Ledger", "",
            f"Chain **{_c(state)}** over {_c(ch.get('rows'))} rows, head {code(ch.get('head'))}", ""]
    rows: list[list[Any]] = [[f"decision {d.decision_id} ({d.outcome})", d.seq, code(d.hash)]
                             for d in r.decisions]
    if r.pushed:
        rows.append([f"pushed {r.pushed.get('ref')}", r.pushed.get("seq"), ""])
    rows += [[f"quarterly {a.get('action')}: {a.get('rationale')}", a.get("seq"), ""] for a in r.actions]
    return [*out, *table(["record", "row", "row hash"], rows)]


def render(r: ApprovalReport) -> str:
    """The whole report as Markdown."""
    lines = [*_head(r), *_evidence(r), *_eval_and_after(r),
             f"_curator approval report, generated {_c(r.generated)}_"]
    return "\n".join(lines) + "\n"
