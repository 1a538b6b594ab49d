"""Builders for the eval tests: a tiny random GPT-2, small local tasks, a review context.

Everything is made by the tests themselves, offline: the tokenizer is a byte-level BPE
trained here on a few sentences, the model a 2-layer GPT-2 with random weights saved as
safetensors.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from curator.core.models import Candidate, StageResult, Status
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.core.stage import ReviewContext
from curator.stages.fetch import FetchStage

SENTENCES = [
    "Question: what colour is the sky? Answer: blue",
    "the quick brown fox jumps over the lazy dog",
    "a cat sat on the mat and the dog ran in the park",
    "Question: how many legs does a dog have? Answer: four",
]


def build_tiny_gpt2(dest: Path, seed: int = 0) -> Path:
    """A 2-layer, hidden-64 GPT-2 with a locally trained byte-level BPE, as safetensors."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    dest.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 20, vocab_size=400, min_frequency=1,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    tokenizer.save_pretrained(dest)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(dest, safe_serialization=True)
    return dest


def build_tiny_t5(dest: Path, seed: int = 0) -> Path:
    """A 1-layer encoder-decoder T5 with the same kind of locally trained tokenizer."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    dest.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 20, vocab_size=400, min_frequency=1,
                            special_tokens=["<pad>", "</s>", "<unk>"], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, pad_token="<pad>",
                                        eos_token="</s>", unk_token="<unk>")
    tokenizer.save_pretrained(dest)
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=2,
                      pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(dest, safe_serialization=True)
    return dest


def write_mc_task(folder: Path, name: str, docs: int, seed: int = 7, words: int = 3) -> Path:
    """A multiple-choice task YAML with ``docs`` generated questions, data beside it."""
    rng = random.Random(seed)
    vocab = ["sky", "blue", "dog", "cat", "park", "mat", "fox", "lazy", "quick", "brown", "legs",
             "four", "answer", "question"]
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    with data.open("w") as fh:
        for i in range(docs):
            question = " ".join(rng.choice(vocab) for _ in range(words))
            pairs = rng.sample(range(len(vocab) ** 2), 4)  # distinct choices: distinct requests
            choices = [f"{vocab[p // len(vocab)]} {vocab[p % len(vocab)]}" for p in pairs]
            fh.write(json.dumps({"id": i, "question": question, "choices": choices,
                                 "answer": rng.randrange(4)}) + "\n")
    yaml_path = folder / f"{name}.yaml"
    yaml_path.write_text(
        f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "output_type: multiple_choice\ntest_split: test\n"
        "doc_to_text: \"Question: {{question}}\\nAnswer:\"\ndoc_to_choice: \"{{choices}}\"\n"
        "doc_to_target: answer\nmetric_list:\n  - metric: acc\n    aggregation: mean\n"
        "    higher_is_better: true\n  - metric: acc_norm\n    aggregation: mean\n"
        "    higher_is_better: true\nmetadata:\n  version: 1.0\n")
    return yaml_path


def policy_with(**eval_section: Any) -> Policy:
    """The shipped policy with some ``eval:`` keys replaced."""
    base = Policy.load()
    return Policy({**base.data, "eval": {**base.section("eval"), **eval_section}}, base.directory)


def review_context(model_dir: Path, work_dir: Path, policy: Policy, scan: Status = Status.PASSED,
                   card: StageResult | None = None) -> ReviewContext:
    """A context as the pipeline builds it: fetch really ran; scan's verdict is given."""
    work_dir.mkdir(parents=True, exist_ok=True)
    candidate = Candidate(repo_id=f"local/{model_dir.name}", revision="local", source="local",
                          path=str(model_dir))
    ctx = ReviewContext("test-review", candidate, model_dir, work_dir, policy)
    ctx.results["fetch"] = FetchStage().run(ctx, quiet_progress("fetch"))
    ctx.results["scan"] = StageResult("scan", scan)
    if card is not None:
        ctx.results["card"] = card
    return ctx


def quiet_progress(stage: str, observers: list[Any] | None = None,
                   cancel: threading.Event | None = None) -> Progress:
    return Progress(stage, observers or [], cancel or threading.Event())


class Recorder:
    """An observer that keeps every progress report, and can act on one."""

    def __init__(self, on_requests: Any = None) -> None:
        self.reports: list[tuple[float, float | None, str, str]] = []
        self.on_requests = on_requests

    def stage_started(self, stage: str) -> None:
        pass

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str, detail: str) -> None:
        self.reports.append((done, total, unit, detail))
        if self.on_requests is not None and unit == "requests" and done > 0:
            self.on_requests(done, total)

    def stage_finished(self, result: StageResult) -> None:
        pass


def direct_lm_eval(model: Path, task_yaml: Path, hf_home: Path, batch_size: int = 8) -> dict[str, Any]:
    """``lm_eval.simple_evaluate`` called directly, as FIELD-NOTES says, in its own process."""
    code = f"""
import json, lm_eval
from lm_eval.tasks import TaskManager
tm = TaskManager(include_defaults=False, include_path={str(task_yaml.parent)!r})
r = lm_eval.simple_evaluate(model="hf",
    model_args={{"pretrained": {str(model)!r}, "dtype": "float32", "trust_remote_code": False}},
    tasks=[{task_yaml.stem!r}], task_manager=tm, device="cpu", batch_size={batch_size},
    bootstrap_iters=1000, random_seed=0, numpy_random_seed=1234, torch_random_seed=1234,
    fewshot_random_seed=1234)
print("RESULT" + json.dumps(r["results"]))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(hf_home)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    results: dict[str, Any] = json.loads(line[len("RESULT"):])
    return results


def with_card(model: Path, dest: Path, model_index: str) -> Path:
    """A copy of the model folder with a README.md whose front matter has ``model-index``."""
    shutil.copytree(model, dest)
    (dest / "README.md").write_text(
        "---\nlicense: apache-2.0\n" + model_index + "---\n# tiny\nA tiny test model.\n", encoding="utf-8")
    return dest
