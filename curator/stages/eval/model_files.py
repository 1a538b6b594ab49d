"""What a candidate's JSON files say about it, read as text: never loading weights or code.

The eval stage decides here, in the curator process, whether a candidate may be loaded
at all: is it a language model lm-eval can drive, do its weights come in a format the
policy allows, and does it ask for publisher code (``auto_map``) that curator never runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: architectures name endings lm-eval's ``hf`` model drives as decoder-only LMs
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
SEQ2SEQ_SUFFIXES = ("ForConditionalGeneration", "ForSeq2SeqLM")
WEIGHT_FORMATS = {".safetensors": "safetensors", ".bin": "bin", ".pt": "bin", ".pth": "bin",
                  ".gguf": "gguf", ".onnx": "onnx", ".h5": "keras", ".keras": "keras",
                  ".msgpack": "flax", ".ckpt": "bin"}
#: any one of these lets transformers build a tokenizer without running code
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model", "spiece.model", "vocab.txt")
#: JSON files transformers reads while loading a model and its tokenizer
LOADED_JSON = ("config.json", "tokenizer_config.json", "generation_config.json",
               "preprocessor_config.json", "processor_config.json")


@dataclass(frozen=True)
class ModelFiles:
    """The facts the eval stage needs before it decides to load a candidate."""

    kind: str  # causal | seq2seq | not-lm
    reason: str  # why not-lm, or what made it an LM
    architectures: tuple[str, ...] = ()
    model_type: str | None = None
    weights: dict[str, str] = field(default_factory=dict)  # path -> format
    custom_code: tuple[str, ...] = ()  # "config.json: auto_map -> modeling_evil.MyModel"
    python_files: tuple[str, ...] = ()
    chat_template: bool = False
    tokenizer: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "architectures": list(self.architectures),
                "model_type": self.model_type, "weights": self.weights,
                "custom_code": list(self.custom_code), "python_files": list(self.python_files),
                "chat_template": self.chat_template, "tokenizer": list(self.tokenizer)}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _auto_map_targets(name: str, data: dict[str, Any]) -> list[str]:
    auto_map = data.get("auto_map")
    if not auto_map:
        return []
    targets = [f"{k} -> {v}" for k, v in auto_map.items()] if isinstance(auto_map, dict) else [str(auto_map)]
    return [f"{name}: auto_map {t}" for t in targets]


def read_model_files(root: Path, paths: list[str]) -> ModelFiles:
    """Classify the candidate in ``root`` from its file list and JSON configs."""
    weights = {p: WEIGHT_FORMATS[Path(p).suffix.lower()] for p in paths
               if Path(p).suffix.lower() in WEIGHT_FORMATS}
    python_files = tuple(p for p in paths if p.endswith(".py"))
    custom: list[str] = []
    for name in LOADED_JSON:
        if name in paths and (data := _read_json(root / name)) is not None:
            custom += _auto_map_targets(name, data)
    tokenizer_cfg = _read_json(root / "tokenizer_config.json") if "tokenizer_config.json" in paths else None
    chat = "chat_template.jinja" in paths or bool(tokenizer_cfg and tokenizer_cfg.get("chat_template"))
    config = _read_json(root / "config.json") if "config.json" in paths else None
    archs = tuple(str(a) for a in (config or {}).get("architectures") or [] if isinstance(a, str))
    model_type = (config or {}).get("model_type")
    facts = ModelFiles(kind="not-lm", reason="", architectures=archs,
                       model_type=model_type if isinstance(model_type, str) else None, weights=weights,
                       custom_code=tuple(custom), python_files=python_files, chat_template=chat,
                       tokenizer=tuple(p for p in paths if p in TOKENIZER_FILES))
    if config is None:
        why = ("config.json is not valid JSON" if "config.json" in paths
               else "no config.json: not a transformers language model")
        return replace(facts, reason=why)
    if config.get("is_encoder_decoder") is True and (
            not archs or any(a.endswith(SEQ2SEQ_SUFFIXES) for a in archs)):
        return replace(facts, kind="seq2seq", reason="encoder-decoder config")
    if any(a.endswith(CAUSAL_SUFFIXES) for a in archs):
        return replace(facts, kind="causal", reason=f"architectures {', '.join(archs)}")
    what = f"architectures {', '.join(archs)}" if archs else f"model_type {facts.model_type or 'unknown'}"
    return replace(facts, reason=f"config.json {what} is not a causal or seq2seq language model")
