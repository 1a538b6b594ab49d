"""The approval report as one self-contained, printable HTML file.

Inline CSS, an inline SVG chart, no script, no link, no image or font from anywhere: a
reviewer can mail it, file it or print it to PDF, offline. The decision and its signature
status come first, then each stage's evidence, waivers and the ledger position.
"""

from __future__ import annotations

from html import escape

from curator.core.evidence import FetchEvidence
from curator.core.text import shown
from curator.export import sections as s
from curator.export.approval import ApprovalReport
from curator.export.chart import eval_chart

CSS = """
:root { --ok:#2e7d32; --warn:#ef8f00; --bad:#c62828; --muted:#666; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color:#111; margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.45rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem;
     border-bottom: 2px solid #ccc; padding-bottom: .2rem; break-after: avoid; }
h3 { font-size: .98rem; margin: 1rem 0 .3rem; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; }
th, td { border: 1px solid #ccc; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr { break-inside: avoid; }
code, .hash { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em;
              word-break: break-all; }
.verdict { border: 3px solid var(--muted); border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
.verdict.approved { border-color: var(--ok); } .verdict.rejected { border-color: var(--bad); }
.verdict.pending, .verdict.undecided { border-color: var(--warn); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 3px; color: #fff; font-weight: bold;
         background: var(--muted); }
.badge.tone-ok { background: var(--ok); } .badge.tone-warn { background: var(--warn); }
.badge.tone-bad { background: var(--bad); } .badge.tone-muted { background: var(--muted); }
blockquote { margin: .2rem 0 .4rem 1rem; padding-left: .6rem; border-left: 3px solid #ccc; color: #333; }
.muted { color: var(--muted); } .chart { max-width: 100%; height: auto; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85em; }
@page { size: A4; margin: 14mm; }
@media print { body { padding: 0; max-width: none; } .badge, .verdict { -webkit-print-color-adjust: exact;
               print-color-adjust: exact; } }
"""


def _e(value: object) -> str:
    # escaped for HTML, and no control or invisible (bidi, zero-width) character left to mislead
    return escape(shown("" if value is None else value))


#: every status word a report shows -> its colour; anything else is muted (and still styled)
TONES = {
    "ok": ("passed", "approved", "approve", "verified", "clean", "ok", "allowed", "expected", "trusted",
           "tofu-match", "keep", "in-production"),
    "warn": ("warned", "pending", "undecided", "needs-review", "needs-re-review", "gap", "declared",
             "unsigned", "needs-legal", "medium", "warn", "tofu-new", "waived", "replace", "skipped",
             "unchecked"),
    "bad": ("failed", "errored", "rejected", "reject", "blocked", "unscanned", "not-reproduced", "missing",
            "forged-decision", "untrusted-key", "revoked-key", "unsigned-decision", "denied", "critical",
            "high", "fail", "mismatch", "retire", "retired"),
}
TONE = {word: tone for tone, words in TONES.items() for word in words}


def tone(status: object) -> str:
    """The colour class of a status word (``tone-ok``, ``tone-warn``, ``tone-bad``, ``tone-muted``)."""
    word = str(status or "").strip().lower().replace(" ", "-")
    return f"tone-{TONE.get(word) or TONE.get(word.split(':')[0]) or 'muted'}"


def badge(status: object) -> str:
    text = _e(status)
    return f'<span class="badge {tone(status)}" data-status="{text.lower()}">{text}</span>'


def table(headers: list[str], rows: list[list[str]], empty: str = "none") -> str:
    """An HTML table; cells are already-escaped HTML."""
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""  # key/value tables need none
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def _header(r: ApprovalReport) -> str:
    c = r.review.candidate
    pin = r.revision
    out = [f'<header class="verdict {_e(r.final)}"><h1>{badge(r.final.upper())} {_e(c.repo_id)}'
           f'@<span class="hash">{_e(pin.split(":")[-1][:12])}</span></h1>']
    if not r.decisions:
        out.append("<p>No decision has been signed on this review yet.</p>")
    for d in r.decisions:
        who = d.curator
        sig = d.signature
        out.append(f"<p><b>{_e(d.outcome)}</b> by {_e(who.get('name'))} &lt;{_e(who.get('email'))}&gt; "
                   f"on {_e(d.time)} · decision <code>{_e(d.decision_id)}</code> · signature "
                   f"{badge(sig['status'])} <span class='muted'>{_e(sig['message'])}</span></p>"
                   f"<p>Rationale: {_e(d.rationale)}</p>")
    out.append(_terms(r))
    pushed = r.pushed or {}
    facts = [["review", f"<code>{_e(r.review.id)}</code>"],
             ["revision", f"<span class='hash'>{_e(pin)}</span>"],
             ["source", _e(f"{c.source} {c.endpoint or c.path or ''}")],
             ["recommendation", badge(r.recommendation)], ["policy", _e(r.policy_version)],
             ["registry ref", f"<code>{_e(pushed.get('ref', 'not pushed'))}</code>"],
             ["manifest digest", f"<span class='hash'>{_e(pushed.get('digest', '—'))}</span>"]]
    out.append(table(["", ""], facts) + "</header>")
    return "".join(out)


def _terms(r: ApprovalReport) -> str:
    """Next to the verdict: what was waived (and by whom, until when), the conditions, the swap,
    production and retirement, and the name's rollbacks."""
    out = []
    waivers = s.waiver_rows(r)
    if waivers:
        out.append("<h3>Waivers</h3>" + table(
            ["stage", "waived status", "reason", "expires", "signed by"],
            [[_e(w["stage"]), badge(w["status"]), _e(w["reason"]), _e(w["expires"]), _e(w["by"])]
             for w in waivers]))
    if r.conditions:
        out.append("<h3>Conditions</h3><ul>" + "".join(f"<li>{_e(c)}</li>" for c in r.conditions) + "</ul>")
    changes = s.change_rows(r)
    if changes:
        out.append("<h3>Change control</h3>" + table(["", ""], [[_e(k), _e(v)] for k, v in changes]))
    rollbacks = s.rollback_rows(r)
    if rollbacks:
        out.append("<h3>Rollbacks of this name</h3>" + table(
            ["when", "by", "from", "to", "why"],
            [[_e(x["time"]), _e(x["curator"]), f"<span class='hash'>{_e(x['from'])}</span>",
              f"<span class='hash'>{_e(x['to'])}</span>", _e(x["rationale"])] for x in rollbacks]))
    return "".join(out)


def _stages(r: ApprovalReport) -> str:
    rows = [[_e(x["stage"]), badge(x["status"]), _e(x["findings"]), _e(x["worst"][:200]), _e(x["tools"])]
            for x in s.stage_rows(r)]
    return "<h2>Stages</h2>" + table(["stage", "status", "findings", "worst finding", "tools"], rows)


def _manifest(r: ApprovalReport) -> str:
    rows = [[f"<code>{_e(m['path'])}</code>", _e(s.human_size(m["size"])),
             f"<span class='hash'>{_e(m['sha256'])}</span>", _e(m["check"])] for m in s.manifest_rows(r)]
    fetch = r.results.get("fetch")
    files_digest = FetchEvidence.of(fetch).manifest_digest if fetch is not None else "—"
    return (f"<h2 id='manifest'>Manifest</h2><p>{len(rows)} file(s), file-list digest "
            f"<span class='hash'>{_e(files_digest)}</span></p>"
            + table(["path", "size", "sha256", "checked against"], rows, "fetch did not run"))


def _scan(r: ApprovalReport) -> str:
    out = ["<h2 id='scan'>Scan</h2>"]
    out.append(table(["file", "format", "verdict"], [[f"<code>{_e(f['path'])}</code>", _e(f["format"]),
                                                      badge(f["verdict"])] for f in s.file_verdicts(r)],
                     "scan did not run"))
    for sc in s.scanners(r):
        out.append(f"<h3>{_e(sc['scanner'])} {_e(sc['version'])} <span class='muted'>({_e(sc['status'])}"
                   f"{', ' + str(sc['errors']) + ' error(s)' if sc['errors'] else ''})</span></h3>")
        out.append(table(["severity", "code", "file", "message"],
                         [[badge(f["severity"]), f"<code>{_e(f['code'])}</code>", _e(f.get("file")),
                           _e(f["message"])] for f in sc["findings"]], "no findings"))
    return "".join(out)


def _signature(r: ApprovalReport) -> str:
    sig = s.signature(r)
    signer = ", ".join(f"{k}: {v}" for k, v in sig["signer"].items()) or "none"
    rows = [["status", badge(sig["status"])], ["mode", _e(sig["mode"])], ["signer", _e(signer)],
            ["publisher", _e(sig["publisher"])], ["trust decision", badge(sig["trust"] or "none")],
            ["why", _e(sig["why"])], ["signed files", _e(sig["files"])]]
    if sig["error"]:
        rows.append(["error", _e(sig["error"])])
    return "<h2 id='signature'>Signature and trust</h2>" + table(["", ""], rows)


def _card(r: ApprovalReport) -> str:
    facts = s.card_facts(r)
    bases = ", ".join(f"{b['repo_id']} ({'approved' if b['approved'] else 'not approved'})"
                      for b in facts["bases"]) or "none declared"
    out = ["<h2 id='card'>Model card and provenance</h2>",
           table(["", ""], [["license", f"{_e(facts['license'] or 'none')} "
                                        f"{badge(facts['license_verdict'])}"],
                            ["lineage", _e(f"{facts['relation'] or 'none'}: {bases}")]])]
    out.append("<h3>Claims in the card</h3>" + table(
        ["task", "metric", "dataset", "claimed", "card line", "eval verdict"],
        [[_e(c["task"]), _e(c["metric"]), _e(c["dataset"]), _e(s.fmt(c["claimed"])),
          _e(c["line"] or "—"), badge(c["verdict"])] for c in s.claims(r)], "the card claims no score"))
    for f in s.provenance(r):
        out.append(f"<h3>{_e(f['title'])} {badge(f['status'])}</h3><p class='muted'>{_e(f['note'])}</p>")
        for ex in f["excerpts"]:
            out.append(f"<blockquote>{_e(ex['excerpt'])}<br><span class='muted'>{_e(ex['location'])}"
                       f"{', line ' + str(ex['line']) if ex['line'] else ''}</span></blockquote>")
    return "".join(out)


def _eval(r: ApprovalReport) -> str:
    claims, results = s.eval_claims(r), s.eval_results(r)
    out = ["<h2 id='eval'>Evaluation: measured vs claimed</h2>"]
    chart_rows = claims if any(c["measured"] is not None for c in claims) else [
        {**x, "measured": x["value"], "verdict": "measured"} for x in results]
    out.append(eval_chart(chart_rows) or "<p class='muted'>no score was measured</p>")
    out.append(table(["task", "metric", "claimed", "measured", "± stderr", "95% interval", "verdict"],
                     [[_e(c["task"]), _e(c["metric"]), _e(s.fmt(c["claimed"])), _e(s.fmt(c["measured"])),
                       _e(s.fmt(c["stderr"])), _e(f"{s.fmt(c['low'])} – {s.fmt(c['high'])}"),
                       badge(c["verdict"]) + (f" <span class='muted'>{_e(c['reason'])}</span>"
                                              if c["reason"] else "")] for c in claims],
                     "the card claims no score"))
    out.append(table(["task", "metric", "value", "± stderr", "95% interval"],
                     [[_e(x["task"]), _e(x["metric"]), _e(s.fmt(x["value"])), _e(s.fmt(x["stderr"])),
                       _e(f"{s.fmt(x['low'])} – {s.fmt(x['high'])}")] for x in results],
                     "no measured scores"))
    return "".join(out)


def _waivers(r: ApprovalReport) -> str:
    rows = [[_e(w["stage"]), badge(w["status"]), _e(w["reason"]), _e(w["expires"]), _e(w["by"])]
            for w in s.waiver_rows(r)]
    headers = ["stage", "waived status", "reason", "expires", "signed by"]
    return "<h2 id='waivers'>Waivers</h2>" + table(headers, rows, "no waiver: nothing blocking was waived")


def _ledger(r: ApprovalReport) -> str:
    ch = r.chain
    rows = [[f"decision {_e(d.decision_id)} ({_e(d.outcome)})", _e(d.seq),
             f"<span class='hash'>{_e(d.hash)}</span>"] for d in r.decisions]
    if r.pushed:
        rows.append([f"pushed {_e(r.pushed.get('ref'))}", _e(r.pushed.get("seq")), ""])
    rows += [[f"quarterly {_e(a.get('action'))} by {_e((a.get('curator') or {}).get('name'))}: "
              f"{_e(a.get('rationale'))}", _e(a.get("seq")), ""] for a in r.actions]
    state = badge("ok" if ch.get("ok") else "failed")
    return (f"<h2 id='ledger'>Ledger</h2><p>Chain {state} over {_e(ch.get('rows'))} rows; head "
            f"<span class='hash'>{_e(ch.get('head'))}</span>"
            + ("" if ch.get("ok") else f" — first bad row {_e(ch.get('first_bad'))}: {_e(ch.get('reason'))}")
            + "</p>" + table(["record", "row", "row hash"], rows))


def render(report: ApprovalReport) -> str:
    """The whole report as one HTML document."""
    c = report.review.candidate
    title = f"Approval report: {c.repo_id}@{report.revision.split(':')[-1][:12]}"
    body = "".join([_header(report), _stages(report), _manifest(report), _scan(report), _signature(report),
                    _card(report), _eval(report), _waivers(report), _ledger(report)])
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{body}<footer>curator approval report · review {_e(report.review.id)} · generated "
            f"{_e(report.generated)} · policy {_e(report.policy_version)}</footer></body></html>\n")
