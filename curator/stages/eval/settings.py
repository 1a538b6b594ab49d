"""The ``eval:`` policy section, checked, and what it turns into for one child run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from curator.core.errors import UsageError

SECTION_KEYS = {"tasks", "check_claims", "claims", "backend", "dtype", "device", "batch_size", "limit",
                "bootstrap_iters", "seeds", "apply_chat_template", "timeout_seconds", "max_memory_mb",
                "max_disk_mb", "weights_formats", "run_after_scan", "datasets_dir", "datasets_cache",
                "floors", "sandbox"}
BACKENDS = {"hf", "local-completions", "vllm"}
DEFAULT_SEEDS = {"random": 0, "numpy": 1234, "torch": 1234, "fewshot": 1234}


@dataclass(frozen=True)
class EvalSettings:
    """Everything that shapes a measurement; recorded whole in the evidence."""

    backend: str = "hf"
    base_url: str | None = None
    served_model: str | None = None
    extra_args: dict[str, Any] = field(default_factory=dict)
    dtype: str = "float32"
    device: str = "cpu"
    batch_size: int | str = 8
    limit: int | None = None
    bootstrap_iters: int = 1000
    seeds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SEEDS))
    apply_chat_template: bool = False
    timeout_seconds: float = 1800.0
    max_memory_mb: float | None = None
    #: what the child may write to its folders on the host's disk (scratch, request cache), in MB
    max_disk_mb: float = 8192.0
    sandbox: str = "bwrap"

    @classmethod
    def from_policy(cls, cfg: dict[str, Any], limit: int | None = None) -> EvalSettings:
        unknown = set(cfg) - SECTION_KEYS
        if unknown:
            raise UsageError(f"checklist section 'eval' has unknown keys: {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(SECTION_KEYS))}")
        backend = cfg.get("backend") or {}
        kind = str(backend.get("kind", "hf")) if isinstance(backend, dict) else str(backend)
        if kind not in BACKENDS:
            raise UsageError(f"eval.backend.kind '{kind}' is not supported",
                             f"use one of {', '.join(sorted(BACKENDS))}")
        base_url = backend.get("base_url") if isinstance(backend, dict) else None
        if kind == "local-completions" and not base_url:
            raise UsageError("eval.backend.kind is local-completions but base_url is not set",
                             "set eval.backend.base_url to the serving engine's /v1/completions URL")
        memory = cfg.get("max_memory_mb")
        sandbox = str(cfg.get("sandbox", "bwrap"))
        if sandbox not in ("bwrap", "none"):
            raise UsageError(f"eval.sandbox '{sandbox}' is not supported",
                             "use bwrap (the default) or none (then every eval needs --unsandboxed)")
        return cls(
            backend=kind, base_url=base_url,
            served_model=backend.get("model") if isinstance(backend, dict) else None,
            extra_args=dict(backend.get("extra_args") or {}) if isinstance(backend, dict) else {},
            dtype=str(cfg.get("dtype", "float32")), device=str(cfg.get("device", "cpu")),
            batch_size=cfg.get("batch_size", 8),
            limit=limit if limit is not None else cfg.get("limit"),
            bootstrap_iters=int(cfg.get("bootstrap_iters", 1000)),
            seeds={**DEFAULT_SEEDS, **(cfg.get("seeds") or {})},
            apply_chat_template=bool(cfg.get("apply_chat_template", False)),
            timeout_seconds=float(cfg.get("timeout_seconds", 1800)),
            max_memory_mb=float(memory) if memory else default_memory_guard_mb(),
            max_disk_mb=float(cfg.get("max_disk_mb", 8192)),
            sandbox=sandbox,
        )

    @property
    def allow_hosts(self) -> list[str]:
        """The serving engine's host, the one place the child may connect to."""
        host = urlparse(self.base_url).hostname if self.base_url else None
        return [host] if host and self.backend == "local-completions" else []

    def model_args(self, model_dir: Path, kind: str, safetensors_only: bool = True) -> dict[str, Any]:
        """lm-eval ``model_args`` for the configured backend, never trusting remote code.

        ``safetensors_only``: a pickled checkpoint beside the safetensors is never the one loaded.
        """
        if self.backend == "local-completions":
            args: dict[str, Any] = {"model": self.served_model or model_dir.name, "base_url": self.base_url,
                                    "tokenizer_backend": "huggingface", "tokenizer": str(model_dir)}
        else:
            args = {"pretrained": str(model_dir), "dtype": self.dtype}
            if kind == "seq2seq" and self.backend == "hf":
                args["backend"] = "seq2seq"
            if safetensors_only and self.backend == "hf":
                args["use_safetensors"] = True
        args.update(self.extra_args)
        args["trust_remote_code"] = False  # last: no policy key can turn publisher code on
        return args

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "base_url": self.base_url, "served_model": self.served_model,
                "extra_args": self.extra_args, "dtype": self.dtype, "device": self.device,
                "batch_size": self.batch_size, "limit": self.limit,
                "bootstrap_iters": self.bootstrap_iters, "seeds": self.seeds,
                "apply_chat_template": self.apply_chat_template, "trust_remote_code": False,
                "timeout_seconds": self.timeout_seconds, "max_memory_mb": self.max_memory_mb,
                "max_disk_mb": self.max_disk_mb, "sandbox": self.sandbox}


def default_memory_guard_mb() -> float | None:
    """Three quarters of this machine's memory, so an eval cannot take the machine down."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size * 0.75 / (1 << 20))


def optional_path(cfg: dict[str, Any], key: str, base: Path) -> Path | None:
    """A policy path, relative to the checklists folder when not absolute."""
    value = cfg.get(key)
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else base / path
