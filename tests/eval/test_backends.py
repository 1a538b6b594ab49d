"""The scale path: the same task against an OpenAI-compatible server instead of a local load.

The test serves the tiny GPT-2 itself: a loopback ``/v1/completions`` endpoint that answers
with echoed token log-probabilities, as vLLM or llama.cpp's server do. The eval child may
reach that host and nothing else; curator itself loads no weights for this backend.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Status
from curator.stages.eval import EvalStage
from tests.eval.helpers import policy_with, quiet_progress, review_context


class CompletionsServer:
    """A minimal OpenAI-style completions server for log-probability requests."""

    def __init__(self, model_dir: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.torch = torch
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.prompts = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompts = body["prompt"] if isinstance(body["prompt"][0], list) else [body["prompt"]]
                reply = json.dumps({"choices": [server.choice(i, p) for i, p in enumerate(prompts)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/completions"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def choice(self, index: int, tokens: list[int]) -> dict[str, Any]:
        """Echo: each prompt token's log-probability, then one greedy token (max_tokens=1)."""
        torch = self.torch
        self.prompts += 1
        with torch.inference_mode():
            logits = self.model(torch.tensor([tokens])).logits[0].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        best = int(logprobs[-1].argmax())
        token_logprobs: list[float | None] = [None]
        top: list[dict[str, float] | None] = [None]
        for position in range(1, len(tokens)):
            row = logprobs[position - 1]
            token_logprobs.append(float(row[tokens[position]]))
            top.append({str(int(row.argmax())): float(row.max())})
        token_logprobs.append(float(logprobs[-1][best]))
        top.append({str(best): float(logprobs[-1][best])})
        return {"index": index, "text": "", "logprobs": {"token_logprobs": token_logprobs,
                                                          "top_logprobs": top}}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tiny_model: Path) -> Iterator[CompletionsServer]:
    server = CompletionsServer(tiny_model)
    yield server
    server.close()


def test_local_completions_backend_scores_like_the_local_load(
        tiny_model: Path, small_task: Path, direct_small: dict[str, Any], served: CompletionsServer,
        tmp_path: Path) -> None:
    policy = policy_with(tasks={"causal": [str(small_task)]},
                         backend={"kind": "local-completions", "base_url": served.url, "model": "tiny"})
    result = EvalStage().run(review_context(tiny_model, tmp_path / "work", policy), quiet_progress("eval"))

    assert result.status == Status.PASSED, result.findings
    assert served.prompts == 160  # every request went to the server
    measured = result.evidence["results"]["tiny_mc"]
    assert measured["acc"] == direct_small["tiny_mc"]["acc,none"]
    assert measured["acc_norm"] == direct_small["tiny_mc"]["acc_norm,none"]
    settings = result.evidence["settings"]
    assert settings["backend"] == "local-completions" and settings["base_url"] == served.url
