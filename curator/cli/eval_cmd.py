"""`curator eval PATH`: the eval stage on a local model folder, after fetch, scan and card.

Weights are loaded only after scan passed, so this runs fetch (hash-pin), scan and card
(for the claims) first, without a ledger. Exit 0 when the eval passed or warned, 1 when
it says no (a claim not reproduced, publisher code, scan blocked the load), 2 when it
could not measure (bad input, no runnable task, the child died).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.errors import UsageError
from curator.core.evidence import EvalEvidence, skip_reason
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.core.models import StageResult

PRE_STAGES = ("fetch", "scan", "card")


@app.command("eval")
def eval_(
    path: Annotated[Path, typer.Argument(help="A local model folder (config.json, safetensors, tokenizer).")],
    task: Annotated[list[str] | None, typer.Option(
        "--task", help="lm-eval task name, curator task (curator_basics, tag 'curator') or task YAML "
                       "path; repeatable (default: the policy's baseline).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Examples per task (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    unsandboxed: Annotated[bool, typer.Option(
        "--unsandboxed", help="Load the weights without the bubblewrap sandbox (when eval.sandbox is none "
                              "or bwrap is missing); recorded in the result as a finding.")] = False,
) -> None:
    """Measure a model with lm-eval in an isolated, offline child; check its card's claims."""
    from curator.cli.progress import TerminalObserver
    from curator.core.models import Candidate, Status
    from curator.core.pipeline import Pipeline
    from curator.core.policy import Policy
    from curator.core.stage import ReviewContext
    from curator.stages import STAGES, build_stages
    from curator.stages.eval import EvalStage

    if not path.is_dir():
        raise UsageError(f"{path} is not a model folder", "pass the folder that holds the model's files")
    root = path.resolve()
    for item in task or []:
        if item.endswith((".yaml", ".yml")) and not Path(item).is_file():
            raise UsageError(f"task file {item} does not exist", "pass an existing task YAML or a task name")
    ws = workspace()
    work_dir = ws.cache_dir / "eval" / "runs" / f"{root.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate = Candidate(repo_id=f"local/{root.name}", revision="local", source="local", path=str(root))
    # fetch copies the folder into the run's own: eval loads the bytes scan saw
    ctx = ReviewContext("eval-cli", candidate, work_dir / "files", work_dir, Policy.load())
    stages = [*build_stages([s for s in PRE_STAGES if s in STAGES]),
              EvalStage(tasks=list(task) if task else None, limit=limit, cache_dir=ws.cache_dir / "eval",
                        unsandboxed=unsandboxed)]
    work_dir.mkdir(parents=True, exist_ok=True)
    results = Pipeline(stages, [TerminalObserver()]).run(ctx)
    result = results.get("eval")
    if result is None or result.status == Status.SKIPPED:
        blocked = [n for n in ("fetch", "scan") if n in results and results[n].status.blocks]
        reason = skip_reason(result) or "the eval stage did not run"
        code = 1 if blocked else 2
    else:
        reason = ""
        code = {Status.PASSED: 0, Status.WARNED: 0, Status.FAILED: 1}.get(result.status, 2)
    if as_json:
        emit_json(_document(root, results, result, reason))
    elif result is not None and EvalEvidence.of(result).results:
        _say_scores(EvalEvidence.of(result))
    if reason and not as_json:
        say(f"[yellow]eval did not run:[/] {markup(reason)}")
    raise typer.Exit(code)


def _document(root: Path, results: dict[str, Any], result: StageResult | None, reason: str) -> dict[str, Any]:
    """``eval --json``: results{TASK: {METRIC: value, METRIC_stderr: value}} and evidence."""
    evidence = result.evidence if result is not None else {}
    ev = EvalEvidence.of(result)
    return {
        "path": str(root),
        "status": result.status.value if result is not None else "skipped",
        "reason": reason or None,
        "results": {key: dict(metrics) for key, metrics in ev.results.items()},
        "claims": [dict(c.data) for c in ev.claims],
        "findings": [f.to_dict() for f in result.findings] if result is not None else [],
        "stages": {name: r.status.value for name, r in results.items()},
        "evidence": evidence,
    }


def _say_scores(evidence: EvalEvidence) -> None:

    for key, metrics in evidence.results.items():
        shown = ", ".join(f"{m} {v:.4f} ± {_number(metrics.get(m + '_stderr')):.4f}"
                          for m, v in metrics.items() if not m.endswith("_stderr") and isinstance(v, float))
        say(f"  [bold]{markup(key)}[/]: {shown}")
    verdict_style = {"consistent": "green", "gap": "yellow", "not-reproduced": "red", "understated": "cyan"}
    for claim in evidence.claims:
        verdict = claim.verdict or "unchecked"
        where = markup(str(claim.dataset or claim.dataset_name or "?"))
        if verdict == "unchecked":
            say(f"  [dim]claim {where} {claim.metric}={claim.value}: unchecked "
                f"({markup(str(claim.reason))})[/]")
        else:
            say(f"  claim {where} → {markup(str(claim.mapped_task))} {markup(str(claim.mapped_metric))}: "
                f"claimed {_number(claim.claimed):.4f}, measured {_number(claim.measured):.4f} "
                f"[{verdict_style.get(verdict, 'white')}]{verdict}[/] ({_number(claim.z):+.1f} stderr)")


def _number(value: object) -> float:
    """A recorded number, or 0 where lm-eval wrote none (its "N/A" stderr)."""
    return float(value) if isinstance(value, int | float) else 0.0
