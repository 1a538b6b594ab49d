"""The eval child process: the ONLY place curator loads a candidate's weights.

Started by ``runner.py`` as ``python -m curator.stages.eval.child SPEC_JSON MSG_FD`` in a
fresh interpreter whose environment is offline (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE, a
curator-owned HF_HOME). It refuses the network, loads the model with
``trust_remote_code=False``, runs lm-eval, and reports on the MSG_FD pipe as JSON lines:
``phase``, ``progress`` (requests done / announced), then ``result``, ``error`` or
``cancelled``. A line ``cancel`` on stdin (or stdin closing) stops it at the next request.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from curator.stages.eval.guard import refuse_network

EXIT_OK, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 3


class EvalCancelled(Exception):
    """The parent asked this child to stop."""


class Channel:
    """JSON lines to the parent over an inherited pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._last = 0.0

    def send(self, event: str, **data: Any) -> None:
        line = json.dumps({"event": event, **data}, default=str) + "\n"
        os.write(self.fd, line.encode())

    def throttled(self, event: str, **data: Any) -> None:
        """At most ~10 progress lines a second: the parent only needs the latest."""
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self.send(event, **data)


class Reporter:
    """Counts requests as lm-eval finishes them; stops the run once cancel is set."""

    def __init__(self, channel: Channel, cancel: threading.Event) -> None:
        self.channel, self.cancel = channel, cancel
        self.done = 0
        self.total = 0
        self.hooks: list[Any] = []

    def announce(self, n: int) -> None:
        self.total += n
        self.channel.send("progress", done=self.done, total=self.total)

    def one(self) -> None:
        self.done += 1
        self.channel.throttled("progress", done=self.done, total=self.total)
        if self.cancel.is_set():
            raise EvalCancelled

    def flush_cache(self) -> None:
        """Commit what the request cache holds, so a cancelled run resumes from it."""
        for hook in self.hooks:
            db = getattr(hook, "dbdict", None)
            if db is not None:
                db.commit(blocking=True)


class ProgressHook:
    """Stands in for lm-eval's CacheHook: caches each answer as before, then counts it."""

    def __init__(self, inner: Any, reporter: Reporter) -> None:
        self.inner, self.reporter = inner, reporter
        reporter.hooks.append(inner)

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        self.inner.add_partial(attr, req, res)
        self.reporter.one()


def instrument(lm: Any, reporter: Reporter) -> None:
    """Progress and cooperative cancel for any lm-eval LM, without changing its batching."""
    lm.cache_hook = ProgressHook(lm.cache_hook, reporter)
    lm.set_cache_hook = lambda hook: setattr(lm, "cache_hook", ProgressHook(hook, reporter))
    for attr in ("loglikelihood", "loglikelihood_rolling", "generate_until"):
        original = getattr(lm, attr)

        def counted(requests: list[Any], *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            reporter.announce(len(requests))
            answers = _original(requests, *args, **kwargs)
            reporter.channel.send("progress", done=reporter.done, total=reporter.total)  # unthrottled
            return answers

        setattr(lm, attr, counted)


def _watch_stdin(cancel: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "cancel":
            break
    cancel.set()  # "cancel", or the parent went away


def _build_lm(spec: dict[str, Any]) -> Any:
    import lm_eval.api.registry

    backend = spec["backend"]
    if backend == "vllm":
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            raise RuntimeError("eval.backend.kind is vllm but vllm is not installed here")
    cls = lm_eval.api.registry.get_model(backend)
    extra = {"batch_size": spec.get("batch_size"), "device": spec.get("device")}
    return cls.create_from_arg_obj(dict(spec["model_args"]), extra)


def _task_specs(spec: dict[str, Any], channel: Channel) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    """A TaskManager and what to load for each task; built-ins only when their data is here."""
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    from curator.core.hashing import file_sha256
    from curator.stages.eval.tasks import builtin_config

    include = sorted({str(Path(t["yaml_path"]).parent) for t in spec["tasks"] if t.get("yaml_path")})
    need_defaults = any(t["source"] == "builtin" for t in spec["tasks"])
    channel.send("phase", detail="indexing tasks")
    manager = TaskManager(include_path=include or None, include_defaults=need_defaults)
    loadable: dict[str, Any] = {}
    unavailable: list[dict[str, Any]] = []
    datasets_dir = Path(spec["datasets_dir"]) if spec.get("datasets_dir") else None
    cache = Path(spec["datasets_cache"]) if spec.get("datasets_cache") else None
    for task in spec["tasks"]:
        name = task["task"]
        if task["source"] != "builtin":
            loadable[name] = {"load": task["yaml_path"]}
            continue
        entry = manager.task_index.get(name)
        if entry is None or entry.yaml_path is None:
            unavailable.append({"task": name, "reason": f"'{name}' is not an lm-eval task here"})
            continue
        if entry.kind.name not in ("TASK",):
            unavailable.append({"task": name, "reason": f"'{name}' is an lm-eval {entry.kind.name.lower()}: "
                                                        "name its tasks one by one"})
            continue
        cfg = load_yaml(entry.yaml_path, resolve_func=True)
        config, origin, hashes = builtin_config(cfg, datasets_dir, cache)
        if config is None:
            unavailable.append({"task": name, "reason": origin})
            continue
        loadable[name] = {"load": config, "origin": origin, "data_files": hashes,
                          "config_sha256": file_sha256(Path(entry.yaml_path))[1]}
    return manager, loadable, unavailable


def _summarise(results: dict[str, Any], run: dict[str, Any]) -> list[dict[str, Any]]:
    from lm_eval.utils import hash_string

    rows = []
    for task, scores in results["results"].items():
        metrics = {k.removesuffix(",none"): v for k, v in scores.items() if "," in k}
        samples = results.get("samples", {}).get(task, [])
        task_hash = hash_string("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"]
                                        for s in samples)) if samples else None
        config = results.get("configs", {}).get(task, {})
        rows.append({
            "task": task, "run": run["key"], "n_shot": results.get("n-shot", {}).get(task),
            "metrics": metrics, "n_samples": results.get("n-samples", {}).get(task),
            "version": results.get("versions", {}).get(task),
            "higher_is_better": results.get("higher_is_better", {}).get(task),
            "task_hash": task_hash, "output_type": config.get("output_type"),
        })
    return rows


def run(spec: dict[str, Any], channel: Channel, cancel: threading.Event) -> dict[str, Any]:
    """Load tasks and the model, run every planned run, return JSON-safe results."""
    import lm_eval

    manager, loadable, unavailable = _task_specs(spec, channel)
    channel.send("phase", detail="loading model")
    started = time.monotonic()
    lm = _build_lm(spec)
    load_seconds = time.monotonic() - started
    reporter = Reporter(channel, cancel)
    instrument(lm, reporter)
    seeds = spec["seeds"]
    rows: list[dict[str, Any]] = []
    entries_before = _cache_entries(spec.get("cache_path"))
    try:
        for planned in spec["runs"]:
            names = [t for t in planned["tasks"] if t in loadable]
            if not names:
                continue
            channel.send("phase", detail=f"running {', '.join(names)}")
            results = lm_eval.simple_evaluate(
                model=lm, tasks=[loadable[t]["load"] for t in names], task_manager=manager,
                num_fewshot=planned.get("num_fewshot"), limit=spec.get("limit"),
                use_cache=spec.get("cache_path"), bootstrap_iters=spec["bootstrap_iters"],
                random_seed=seeds["random"], numpy_random_seed=seeds["numpy"],
                torch_random_seed=seeds["torch"], fewshot_random_seed=seeds["fewshot"],
                apply_chat_template=spec.get("apply_chat_template", False), log_samples=True)
            if results is not None:
                rows += _summarise(results, planned)
    finally:  # answers computed so far stay cached: a cancelled or crashed run resumes
        reporter.flush_cache()
    return {
        "rows": rows, "unavailable": unavailable,
        "task_sources": {k: {x: v[x] for x in ("origin", "data_files", "config_sha256") if x in v}
                         for k, v in loadable.items()},
        "versions": {"lm_eval": _dist("lm_eval"),
                     "transformers": _dist("transformers"), "torch": _dist("torch"),
                     "datasets": _dist("datasets")},
        "model_info": _model_info(lm), "load_seconds": round(load_seconds, 3),
        "requests": {"computed": reporter.done, "announced": reporter.total},
        "cache_entries": {"before": entries_before, "after": _cache_entries(spec.get("cache_path"))},
        "peak_rss_mb": _peak_rss_mb(),
    }


def _dist(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _model_info(lm: Any) -> dict[str, Any]:
    info = lm.get_model_info() if hasattr(lm, "get_model_info") else {}
    return {k: v for k, v in info.items() if k in ("model_num_parameters", "model_dtype")}


def _cache_entries(cache_path: str | None) -> int:
    """Answers already in lm-eval's request cache for this model (rank-0 file)."""
    if not cache_path or not Path(cache_path + "_rank0.db").exists():
        return 0
    import sqlite3

    with sqlite3.connect(cache_path + "_rank0.db") as db:
        row = db.execute("SELECT COUNT(*) FROM unnamed").fetchone()
    return int(row[0]) if row else 0


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): ru_maxrss would inherit the parent's across exec."""
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str]) -> int:
    """Entry point; the return value is the process exit code."""
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    # lm-eval's INFO lines (tasks built, requests run) make the stderr tail say where it died
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    channel = Channel(int(argv[2]))
    refuse_network(set(spec.get("allow_hosts") or []))
    cancel = threading.Event()
    threading.Thread(target=_watch_stdin, args=(cancel,), daemon=True).start()
    try:
        result = run(spec, channel, cancel)
    except EvalCancelled:
        channel.send("cancelled")
        return EXIT_CANCELLED
    except BaseException as exc:  # noqa: BLE001  # every failure reaches the parent as one message
        tail = traceback.format_exc().splitlines()[-15:]
        channel.send("error", message=f"{type(exc).__name__}: {exc}"[:2000], traceback=tail)
        traceback.print_exc()
        return EXIT_ERROR
    channel.send("result", **result)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
