"""The quarterly review's report (HTML or Markdown): counts, what changed, what the lead did.

Read back from the ledger (``quarterly_run``, its ``quarterly_check`` rows, and the
``quarterly_action`` rows recorded after it), so it can be produced right after the run
or at the end of the quarter once every keep / replace / retire is signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from curator.core.clock import iso
from curator.core.errors import UsageError
from curator.core.events import ModelRechecked, QuarterlyActionTaken, QuarterlyRunFinished
from curator.export.report_html import CSS, badge, table
from curator.inventory.build import Inventory, InventoryEntry

#: the inventory section's columns (``InventoryEntry.cell``)
INVENTORY_COLUMNS = ("ref", "status", "production", "replaced_by", "conditions", "signature", "waivers")

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase


@dataclass(frozen=True)
class QuarterlySummary:
    run: dict[str, Any]  # the quarterly_run payload, plus time and seq
    models: list[dict[str, Any]]  # quarterly_check payloads of this run, plus review_id
    actions: list[dict[str, Any]]  # quarterly_action payloads recorded after the run (no envelopes)
    #: the inventory as of the report (production, swaps, rollbacks, retirements); None: not read
    inventory: Inventory | None = None

    def lifecycle_lines(self) -> list[tuple[str, str]]:
        """(ref, fact) for every rollback and retirement the inventory knows of."""
        out: list[tuple[str, str]] = []
        for e in self.inventory.entries if self.inventory else ():
            life = e.lifecycle
            out += [(e.ref, f"production rolled back on {r['time']} by {r['curator']} from {r['from']} to "
                            f"{r['to']}: {r['rationale']}") for r in life.rollbacks
                    if r["to"] == e.manifest_digest]
            if life.retirement:
                r = life.retirement
                out.append((e.ref, f"retired on {r['time']} by {r['curator']}: {r['rationale']}"))
        return out

    @property
    def changes(self) -> list[tuple[str, dict[str, Any]]]:
        """(ref, check) for every check that did not come out ok or skipped."""
        return [(m["ref"], c) for m in self.models for c in m.get("checks", [])
                if c.get("outcome") not in ("ok", "skipped")]


def _cells(e: InventoryEntry) -> list[str]:
    return [e.cell(c) for c in INVENTORY_COLUMNS]


def load_summary(ledger: LedgerBase, run_id: str | None = None,
                 inventory: Inventory | None = None) -> QuarterlySummary:
    """The latest quarterly run (or ``run_id``) with its checks and the actions taken since."""
    runs = [e for e in ledger.read(QuarterlyRunFinished) if run_id in (None, e.event.run_id)]
    if not runs:
        raise UsageError("no quarterly review has been run" + (f" with id {run_id}" if run_id else ""),
                         "run 'curator quarterly --headless' first")
    run = runs[-1]
    rows = [e for e in ledger.read(ModelRechecked) if e.event.run_id == run.event.run_id]
    models = [{**e.event.to_payload(), "review_id": e.review_id} for e in rows]
    first = min((e.seq for e in rows), default=run.seq)
    actions = [{**e.event.unsigned, "time": iso(e.time), "seq": e.seq}
               for e in ledger.read(QuarterlyActionTaken) if e.seq > first]
    return QuarterlySummary({**run.event.to_payload(), "time": iso(run.time), "seq": run.seq}, models,
                            actions, inventory)


def render_html(s: QuarterlySummary) -> str:
    run, counts = s.run, s.run.get("counts", {})
    e = escape
    tools = ", ".join(f"{k} {v}" for k, v in (run.get("scanners_now") or {}).items())
    parts = [f"<header class='verdict {'approved' if not counts.get('fail') else 'rejected'}'>"
             f"<h1>Quarterly review {e(str(run.get('date')))}</h1>"
             f"<p>run <code>{e(str(run.get('run_id')))}</code> · registry "
             f"<code>{e(str(run.get('registry')))}</code> · scanners today: {e(tools)}"
             "</p>" + table(["models", "ok", "warn", "fail", "retired (not checked)"],
                           [[e(str(counts.get(k, 0))) for k in ("models", "ok", "warn", "fail", "retired")]])
             + "</header>", "<h2>Models</h2>",
             table(["ref", "outcome", "failed checks"],
                   [[f"<code>{e(m['ref'])}</code>", badge(m.get("outcome")),
                     e(", ".join(m.get("failed") or []))] for m in s.models], "no model was checked"),
             "<h2>Changes and findings</h2>",
             table(["ref", "check", "outcome", "what"],
                   [[f"<code>{e(ref)}</code>", e(str(c.get("name"))), badge(c.get("outcome")),
                     e(str(c.get("message")))] for ref, c in s.changes],
                   "nothing changed: every check passed"),
             "<h2>Actions</h2>",
             table(["ref", "action", "by", "when", "rationale", "signed id"],
                   [[f"<code>{e(str(a.get('ref')))}</code>", badge(a.get("action")),
                     e(str((a.get("curator") or {}).get("name"))), e(str(a.get("time"))),
                     e(str(a.get("rationale"))), f"<code>{e(str(a.get('action_id')))}</code>"]
                    for a in s.actions],
                   "no keep / replace / retire recorded yet")]
    if s.inventory is not None:
        parts += ["<h2>Inventory</h2>",
                  table(list(INVENTORY_COLUMNS), [[e(x) for x in _cells(m)] for m in s.inventory.entries],
                        "no model in the registry"),
                  "<h2>Rollbacks and retirements</h2>",
                  table(["ref", "what"],
                        [[f"<code>{e(ref)}</code>", e(what)] for ref, what in s.lifecycle_lines()],
                        "none")]
    title = f"Quarterly review {run.get('date')}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(parts)}<footer>curator quarterly report · run "
            f"{e(str(run.get('run_id')))} · ledger row {e(str(run.get('seq')))}</footer></body></html>\n")


def render_md(s: QuarterlySummary) -> str:
    from curator.export.markdown import code
    from curator.export.markdown import table as md_table
    from curator.export.markdown import text as md

    run, counts = s.run, s.run.get("counts", {})
    out = [f"# Quarterly review {md(run.get('date'))}", "",
           f"run {code(run.get('run_id'))}, registry {code(run.get('registry'))}, scanners today: "
           + md(", ".join(f"{k} {v}" for k, v in (run.get("scanners_now") or {}).items())), "",
           *md_table(["models", "ok", "warn", "fail", "retired (not checked)"],
                     [[counts.get(k, 0) for k in ("models", "ok", "warn", "fail", "retired")]]),
           "## Models", "",
           *md_table(["ref", "outcome", "failed checks"],
                     [[code(m["ref"]), m.get("outcome"), ", ".join(m.get("failed") or [])]
                      for m in s.models]),
           "## Changes and findings", "",
           *md_table(["ref", "check", "outcome", "what"],
                     [[code(ref), c.get("name"), c.get("outcome"), c.get("message")]
                      for ref, c in s.changes],
                     "_nothing changed: every check passed_"),
           "## Actions", "",
           *md_table(["ref", "action", "by", "when", "rationale", "signed id"],
                     [[code(a.get("ref")), a.get("action"), (a.get("curator") or {}).get("name"),
                       a.get("time"), a.get("rationale"), code(a.get("action_id"))] for a in s.actions],
                     "_no keep / replace / retire recorded yet_")]
    if s.inventory is not None:
        out += ["## Inventory", "", *md_table(list(INVENTORY_COLUMNS),
                                              [_cells(m) for m in s.inventory.entries],
                                              "_no model in the registry_"),
                "## Rollbacks and retirements", "",
                *md_table(["ref", "what"], [[code(ref), what] for ref, what in s.lifecycle_lines()],
                          "_none_")]
    return "\n".join(out) + "\n"
