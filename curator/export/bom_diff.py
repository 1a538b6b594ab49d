"""What changed between two AI-BOMs (last quarter's and this one): models added, removed,
retired, replaced; production moves; waivers that expired or appeared; scan verdicts and
statuses that changed. Both BOMs are read as curator writes them (``curator:*`` properties,
docs/bom.md); a BOM from another tool diffs by its model components only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError

MODEL = "machine-learning-model"
KINDS = (
    "added",
    "removed",
    "retired",
    "replaced",
    "production",
    "waivers_expired",
    "waivers_added",
    "verdicts_changed",
    "status_changed",
)


def read_bom(path: Path) -> dict[str, Any]:
    """A CycloneDX JSON BOM from a file; UsageError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the BOM {path} ({exc.strerror})", "pass an existing BOM file") from exc
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON ({exc})", "pass a BOM written by 'curator bom'") from exc
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise UsageError(f"{path} is not a CycloneDX BOM", "pass a BOM written by 'curator bom'")
    return data


def _models(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(c.get("bom-ref")): c
        for c in bom.get("components") or []
        if isinstance(c, dict) and c.get("type") == MODEL
    }


def _props(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in component.get("properties") or []:
        if isinstance(p, dict):
            found.setdefault(str(p.get("name")), []).append(str(p.get("value")))
    return found


def _one(props: dict[str, list[str]], name: str) -> str:
    return (props.get(name) or [""])[0]


def _verdicts(component: dict[str, Any]) -> dict[str, str]:
    return {
        str(f.get("name")): _one(_props(f), "curator:scan:verdict")
        for f in component.get("components") or []
        if isinstance(f, dict) and f.get("type") == "file"
    }


def _waivers(props: dict[str, list[str]]) -> dict[str, str]:
    return {k.split(":", 2)[2]: v[0] for k, v in props.items() if k.startswith("curator:waiver:") and v}


def diff_boms(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every change from ``old`` to ``new``, grouped by kind (``KINDS``), each a small dict."""
    before, after = _models(old), _models(new)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    out["added"] = [{"ref": r, "version": after[r].get("version")} for r in sorted(set(after) - set(before))]
    out["removed"] = [
        {"ref": r, "version": before[r].get("version")} for r in sorted(set(before) - set(after))
    ]
    for ref in sorted(set(after)):
        a = _props(after[ref])
        b = _props(before[ref]) if ref in before else {}
        if ref in before and _one(a, "curator:status") != _one(b, "curator:status"):
            change = {"ref": ref, "was": _one(b, "curator:status"), "now": _one(a, "curator:status")}
            if change["now"] == "retired":
                out["retired"].append(
                    {
                        "ref": ref,
                        "by": _one(a, "curator:retired:by"),
                        "when": _one(a, "curator:retired:time"),
                        "why": _one(a, "curator:retired:reason"),
                    }
                )
            else:
                out["status_changed"].append({**change, "reasons": a.get("curator:reason", [])})
        elif ref not in before and _one(a, "curator:status") == "retired":
            out["retired"].append(
                {
                    "ref": ref,
                    "by": _one(a, "curator:retired:by"),
                    "when": _one(a, "curator:retired:time"),
                    "why": _one(a, "curator:retired:reason"),
                }
            )
        replaces = _one(a, "curator:swap:replaces")
        if replaces and replaces != _one(b, "curator:swap:replaces"):
            out["replaced"].append(
                {"ref": ref, "replaces": replaces, "justification": _one(a, "curator:swap:justification")}
            )
        if ref in before and _one(a, "curator:production") != _one(b, "curator:production"):
            out["production"].append(
                {
                    "ref": ref,
                    "was": _one(b, "curator:production") or "unknown",
                    "now": _one(a, "curator:production") or "unknown",
                    "rollbacks": [
                        r for r in a.get("curator:rollback", []) if r not in b.get("curator:rollback", [])
                    ],
                }
            )
        was_reasons = set(b.get("curator:reason", []))
        out["waivers_expired"] += [
            {"ref": ref, "reason": r}
            for r in a.get("curator:reason", [])
            if r.startswith("waiver for ") and r not in was_reasons
        ]
        new_waivers = _waivers(a)
        out["waivers_added"] += [
            {"ref": ref, "stage": s, "waiver": w}
            for s, w in sorted(new_waivers.items())
            if _waivers(b).get(s) != w
        ]
        if ref in before:
            then, now = _verdicts(before[ref]), _verdicts(after[ref])
            out["verdicts_changed"] += [
                {"ref": ref, "file": f, "was": then.get(f, "absent"), "now": now.get(f, "absent")}
                for f in sorted(set(then) | set(now))
                if then.get(f) != now.get(f)
            ]
    return out


def summary_lines(diff: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One plain line per change, for a terminal or a report."""
    lines = []
    for item in diff["added"]:
        lines.append(f"added {item['ref']}")
    for item in diff["removed"]:
        lines.append(f"removed {item['ref']}")
    for item in diff["retired"]:
        lines.append(f"retired {item['ref']} on {item['when']} by {item['by']}: {item['why']}")
    for item in diff["replaced"]:
        lines.append(f"replaced {item['replaces']} with {item['ref']}: {item['justification']}")
    for item in diff["production"]:
        lines.append(
            f"production {item['ref']}: {item['was']} -> {item['now']}"
            + "".join(f"; rollback {r}" for r in item["rollbacks"])
        )
    for item in diff["waivers_expired"]:
        lines.append(f"waiver expired {item['ref']}: {item['reason']}")
    for item in diff["waivers_added"]:
        lines.append(f"waiver {item['stage']} on {item['ref']}: {item['waiver']}")
    for item in diff["verdicts_changed"]:
        lines.append(f"verdict {item['ref']} {item['file']}: {item['was']} -> {item['now']}")
    for item in diff["status_changed"]:
        lines.append(f"status {item['ref']}: {item['was']} -> {item['now']}")
    return lines
