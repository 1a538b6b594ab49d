"""Eval stage: an independent lm-eval run on the pinned files, checked against the card's claims.

The candidate is loaded only here, in a child process (``child.py``), only after the scan
stage passed, with ``trust_remote_code=False``, offline and without network. A candidate
asking for publisher code (``auto_map``) is refused before anything is started.

Evidence keys (the TUI and reports read them; keep them stable): ``model`` (kind,
architectures, weights, custom_code, manifest_digest, files{path: sha256}), ``settings``,
``tasks[{task, source, status, reason, origin, config_sha256, data_files}]``,
``scores[{task, run, n_shot, metrics, n_samples, version, task_hash}]``,
``results{TASK | TASK@N-shot: {METRIC: value, METRIC_stderr: value}}``, ``claims[{...card
claim, mapped_task, mapped_metric, claimed, measured, stderr, z, verdict, reason, notes}]``,
``claims_source``, ``versions``, ``cache``, ``requests``, ``child``, ``wall_seconds``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from curator.core.evidence.card import CardEvidence
from curator.core.hashing import changed_files
from curator.core.models import Finding, Manifest, Severity, StageResult, Status, digest_of
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.eval.claims import ClaimMap, Judgement
from curator.stages.eval.model_files import TOKENIZER_FILES, ModelFiles, read_model_files
from curator.stages.eval.plan import Plan, check_claims, make_plan, result_key
from curator.stages.eval.runner import SCRATCH, Limits, child_env, reset_run_dir, run_child
from curator.stages.eval.sandbox import Mounts, Sandbox, bwrap_path
from curator.stages.eval.settings import EvalSettings, optional_path

TOOL = "lm-eval"


class EvalStage(Stage):
    """Measure the candidate with lm-eval in an isolated child; judge the card's claims."""

    name = "eval"
    title = "Independent evaluation"
    requires = ("fetch", "scan")

    def __init__(self, tasks: list[str] | None = None, limit: int | None = None,
                 cache_dir: Path | None = None, unsandboxed: bool = False) -> None:
        #: the CLI's --task / --limit; None means the policy's baseline for the model's kind
        self.tasks = tasks
        self.limit = limit
        self.cache_dir = cache_dir
        #: the curator's --unsandboxed: run without bwrap when the policy or the machine has none
        self.unsandboxed = unsandboxed

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        cfg = ctx.policy.section("eval")
        settings = EvalSettings.from_policy(cfg, self.limit)
        blocked = _scan_gate(ctx, cfg)
        if blocked:
            return self.skipped(blocked)
        manifest = ctx.manifest
        if manifest is None:
            return self._result(Status.ERRORED, [_finding(Severity.HIGH, "eval-errored",
                                "fetch left no manifest: run the fetch stage again")], {})
        facts = read_model_files(ctx.files_dir, [f.path for f in manifest.files])
        evidence: dict[str, Any] = {
            "model": {**facts.to_dict(), "manifest_digest": manifest.digest,
                      "files": {f.path: f.sha256 for f in manifest.files}},
            "settings": settings.to_dict(),
        }
        refusal = _refusal(facts, cfg, settings)
        if refusal is not None:
            status, finding = refusal
            if status == Status.SKIPPED:
                return StageResult(self.name, Status.SKIPPED, (finding,),
                                   {**evidence, "reason": finding.message})
            return self._result(status, [finding], evidence)
        changed = _changed_files(ctx.files_dir, manifest, progress)
        if changed:
            return self._result(Status.FAILED, [_finding(
                Severity.CRITICAL, "files-changed",
                f"{', '.join(changed[:5])} changed on disk since fetch pinned them: nothing was loaded; "
                "start a fresh review", file=changed[0])], evidence)
        baseline = self.tasks or _baseline(cfg, facts.kind)
        claims, evidence["claims_source"] = _card_claims(ctx)
        claim_map = ClaimMap.load(ctx.policy.directory) if cfg.get("check_claims", True) else None
        run_dir = ctx.work_dir / "eval"
        reset_run_dir(run_dir)
        evals_dir = ctx.policy.directory / "evals"
        plan = make_plan(baseline, claims, claim_map, evals_dir, run_dir / "tasks",
                         restrict_claims=self.tasks is not None)
        return self._measure(ctx, progress, cfg, settings, facts, manifest, plan, evidence, run_dir)

    def _measure(self, ctx: ReviewContext, progress: Progress, cfg: dict[str, Any],
                 settings: EvalSettings, facts: ModelFiles, manifest: Manifest, plan: Plan,
                 evidence: dict[str, Any], run_dir: Path) -> StageResult:
        progress.check()
        cache_root = self.cache_dir or _cache_root(ctx.work_dir)
        answers_key = digest_of({k: v for k, v in settings.to_dict().items()
                                 if k in ("backend", "base_url", "served_model", "extra_args", "dtype")})
        # one folder per model and answers: the only part of the shared cache the child sees
        cache_folder = cache_root / "requests" / f"{manifest.digest[7:31]}-{answers_key[7:15]}"
        cache_folder.mkdir(parents=True, exist_ok=True)
        cache_path = cache_folder / "answers"
        datasets_cache = optional_path(cfg, "datasets_cache", ctx.policy.directory)
        datasets_dir = optional_path(cfg, "datasets_dir", ctx.policy.directory)
        sandbox, findings = self._sandbox(settings, Mounts(
            read_only=tuple(p for p in (ctx.files_dir, run_dir, datasets_dir, datasets_cache,
                                        *_task_inputs(plan)) if p is not None),
            writable=(run_dir / SCRATCH, cache_folder), share_net=settings.backend == "local-completions",
            hidden=tuple(h for h in (_workspace_home(ctx.work_dir),) if h is not None)))
        evidence["sandbox"] = {**sandbox.evidence(),
                               "unsandboxed": self.unsandboxed and sandbox.kind == "none"}
        if sandbox.kind == "none" and not self.unsandboxed:
            return self._result(Status.ERRORED, findings, evidence)
        spec = {
            "backend": settings.backend, "model_args": settings.model_args(
                ctx.files_dir, facts.kind, "bin" not in cfg.get("weights_formats", ["safetensors"])),
            "batch_size": settings.batch_size, "device": settings.device, "limit": settings.limit,
            "bootstrap_iters": settings.bootstrap_iters, "seeds": settings.seeds,
            "apply_chat_template": settings.apply_chat_template, "cache_path": str(cache_path),
            "tasks": [{"task": r.name, "source": r.source, "yaml_path": r.yaml_path} for r in plan.refs],
            "runs": plan.runs, "allow_hosts": settings.allow_hosts,
            "datasets_dir": str(datasets_dir) if datasets_dir else None,
            "datasets_cache": str(datasets_cache) if datasets_cache else None,
        }
        scratch = run_dir / SCRATCH
        env = child_env(scratch / "hf-home", scratch / "home", datasets_cache, sandbox.kind == "bwrap")
        started = time.time()
        outcome = run_child(spec, run_dir, env, progress,
                            Limits(settings.timeout_seconds, settings.max_memory_mb, settings.max_disk_mb,
                                   sandbox.mounts.writable), sandbox)
        evidence.update(child=outcome.evidence(), wall_seconds=round(time.time() - started, 2),
                        cache={"path": str(cache_path) + "_rank0.db"})
        if outcome.status != "ok":
            evidence["tasks"] = [r.to_dict() for r in plan.refs]
            return self._result(Status.ERRORED, [_finding(
                Severity.HIGH, "eval-errored",
                f"the eval of {ctx.candidate.label} did not finish: {outcome.message[:400]}; "
                "see the stderr tail in the evidence, fix the cause and run the stage again "
                "(finished requests are cached)"), *findings], evidence)
        return self._verdict(cfg, settings, facts, plan, outcome.result, evidence, findings)

    def _sandbox(self, settings: EvalSettings, mounts: Mounts) -> tuple[Sandbox, list[Finding]]:
        """The sandbox this run gets, or ``none`` with the finding that says why."""
        from curator.stages.eval import seccomp

        if settings.sandbox == "bwrap" and bwrap_path() is not None:
            return Sandbox("bwrap", mounts, seccomp=seccomp.available()), []
        why = ("the policy sets eval.sandbox: none" if settings.sandbox == "none"
               else "bubblewrap (bwrap) is not installed")
        if not self.unsandboxed:
            return Sandbox("none", mounts), [_finding(
                Severity.HIGH, "sandbox-unavailable",
                f"{why}: curator loads a candidate's weights only inside the sandbox, so nothing was "
                "loaded; install bubblewrap (apt-get install bubblewrap) and set eval.sandbox: bwrap, "
                "or pass --unsandboxed to run it with your own user's access")]
        return Sandbox("none", mounts), [_finding(
            Severity.MEDIUM, "eval-unsandboxed",
            f"{why}: the curator passed --unsandboxed, so the model ran as a plain child process with "
            "this user's file system and network (only a Python-level network guard)")]

    def _verdict(self, cfg: dict[str, Any], settings: EvalSettings, facts: ModelFiles, plan: Plan,
                 result: dict[str, Any], evidence: dict[str, Any], findings: list[Finding]) -> StageResult:
        findings = list(findings)
        harness = str(result.get("versions", {}).get("lm_eval", ""))
        unavailable = {u["task"]: u["reason"] for u in result.get("unavailable", [])}
        sources = result.get("task_sources", {})
        rows = {result_key(r["task"], r["run"]): r for r in result.get("rows", [])}
        evidence["tasks"] = [{**r.to_dict(), **{k: v for k, v in sources.get(r.name, {}).items() if v},
                              "status": "unavailable" if r.name in unavailable else "ran",
                              "reason": unavailable.get(r.name)} for r in plan.refs]
        evidence["scores"] = list(rows.values())
        evidence["results"] = {key: row["metrics"] for key, row in rows.items()}
        for key in ("versions", "model_info", "requests", "load_seconds"):
            evidence[key] = result.get(key)
        evidence["cache"]["entries"] = result.get("cache_entries")
        if not rows:
            evidence["claims"] = plan.claims
            return self._result(Status.ERRORED, [_finding(
                Severity.HIGH, "eval-no-task",
                "no evaluation task could run: " + "; ".join(f"{k}: {v}" for k, v in unavailable.items())
                + " — use curator's own tasks (--task curator) or provide the datasets locally"),
                *findings], evidence)
        baseline_names = {r.name for r in plan.refs if any(r.name in run["tasks"] for run in plan.runs
                                                           if run["key"] == "default")}
        findings += [_finding(Severity.MEDIUM, "task-unavailable", f"baseline task {name} did not run: {why}")
                     for name, why in unavailable.items() if name in baseline_names]
        findings += _floor_findings(cfg.get("floors") or {}, rows, harness)
        findings += check_claims(plan, rows, unavailable, Judgement.from_policy(cfg.get("claims") or {}),
                                 settings.to_dict(), facts.chat_template, harness)
        evidence["claims"] = plan.claims
        worst = max((f.severity.rank for f in findings), default=-1)
        status = (Status.FAILED if worst >= Severity.HIGH.rank
                  else Status.WARNED if worst >= Severity.MEDIUM.rank else Status.PASSED)
        return self._result(status, findings, evidence, result.get("versions") or {})

    def _result(self, status: Status, findings: list[Finding], evidence: dict[str, Any],
                versions: dict[str, str] | None = None) -> StageResult:
        return StageResult(self.name, status, tuple(findings), evidence,
                           tool_versions={k: str(v) for k, v in (versions or {}).items()})


def _finding(severity: Severity, code: str, message: str, file: str | None = None) -> Finding:
    return Finding(severity, code, message, tool="curator", file=file)


def _scan_gate(ctx: ReviewContext, cfg: dict[str, Any]) -> str | None:
    """Weights load only after scan reached an allowed status, or a signed waiver for scan.

    ``ctx.waivers`` is the hook for the decision's signed waivers (stage names); until it
    exists nothing is waived.
    """
    allowed = {str(s) for s in cfg.get("run_after_scan", ["passed"])}
    scan = ctx.results.get("scan")
    if scan is not None and scan.status.value in allowed:
        return None
    if "scan" in getattr(ctx, "waivers", frozenset()):
        return None
    got = scan.status.value if scan else "not run"
    return f"scan is {got}: weights are loaded only after scan is {' or '.join(sorted(allowed))}"


def _refusal(facts: ModelFiles, cfg: dict[str, Any], settings: EvalSettings) -> tuple[Status, Finding] | None:
    if facts.custom_code:
        return Status.FAILED, _finding(
            Severity.HIGH, "custom-code-refused",
            f"the model asks for publisher code ({'; '.join(facts.custom_code)[:300]}); curator never runs "
            "it and did not load the model: evaluate it in a sandbox of your own, or reject it",
            file=facts.custom_code[0].split(":")[0])
    if facts.kind == "not-lm":
        return Status.SKIPPED, _finding(Severity.INFO, "not-a-language-model",
                                        f"{facts.reason}; lm-eval measures language models only")
    formats = {str(f) for f in cfg.get("weights_formats", ["safetensors"])}
    usable = [p for p, fmt in facts.weights.items() if fmt in formats]
    if not usable and settings.backend != "local-completions":  # a server holds those weights
        found = ", ".join(sorted(set(facts.weights.values()))) or "none"
        return Status.SKIPPED, _finding(
            Severity.INFO, "weights-format",
            f"no weights in an allowed format ({', '.join(sorted(formats))}; found: {found}); "
            "convert them to safetensors or allow the format in eval.weights_formats")
    if not facts.tokenizer:
        return Status.SKIPPED, _finding(
            Severity.INFO, "no-tokenizer",
            f"no tokenizer files ({', '.join(TOKENIZER_FILES)}): lm-eval cannot score text without one; "
            "ask the publisher for the tokenizer")
    return None


def _changed_files(root: Path, manifest: Manifest, progress: Progress) -> list[str]:
    """Re-hash the pinned files just before loading them: what is loaded is what was scanned."""
    # a detail only: the stage's progress total is counted in lm-eval requests
    progress.advance(0, f"re-hashing {manifest.total_size / 1e6:.0f} MB of pinned files")
    return changed_files(root, [(f.path, f.sha256) for f in manifest.files])


def _workspace_home(work_dir: Path) -> Path | None:
    """The curator workspace a review folder lives in (the folder holding keys/ and reviews/)."""
    for parent in work_dir.resolve().parents:
        if (parent / "keys").is_dir() and (parent / "reviews").is_dir():
            return parent
    return None


def _task_inputs(plan: Plan) -> list[Path]:
    """Task YAML folders and data files the child reads (curator's rendered ones live in its scratch)."""
    paths = []
    for ref in plan.refs:
        if ref.yaml_path:
            paths.append(Path(ref.yaml_path).parent)
        paths += [Path(p) for p in ref.data_files]
    return paths


def _baseline(cfg: dict[str, Any], kind: str) -> list[str]:
    tasks = cfg.get("tasks") or {}
    chosen = tasks.get(kind) if isinstance(tasks, dict) else tasks
    return [str(t) for t in chosen or ["curator"]]


def _card_claims(ctx: ReviewContext) -> tuple[list[dict[str, Any]], str]:
    card = ctx.results.get("card")
    if card is None:
        return [], "the card stage did not run: only the baseline was measured"
    evidence = CardEvidence.of(card)
    if not evidence.claims_recorded:
        return [], f"the card stage ({card.status.value}) reported no claims"
    # copies: the plan writes its verdicts into them, never into the card's own result
    return [dict(c.data) for c in evidence.claims], "card"


def _cache_root(work_dir: Path) -> Path:
    """The workspace's shared cache for a review folder (``HOME/reviews/ID``), else beside it."""
    if work_dir.parent.name == "reviews" and (work_dir.parent.parent / "cache").is_dir():
        return work_dir.parent.parent / "cache" / "eval"
    return work_dir / "eval-cache"


def _floor_findings(floors: dict[str, Any], rows: dict[str, dict[str, Any]], harness: str) -> list[Finding]:
    """A score below the policy's floor: the model may be broken, truncated or not what it says."""
    findings = []
    for task, metrics in floors.items():
        row = rows.get(str(task))
        for metric, floor in (metrics or {}).items() if row else []:
            value = row["metrics"].get(metric) if row else None
            if isinstance(value, int | float) and value < float(floor):
                findings.append(Finding(Severity.MEDIUM, "below-floor",
                                        f"{task} {metric} = {value:.4f}, below the policy floor {floor}",
                                        tool=TOOL, tool_version=harness))
    return findings
