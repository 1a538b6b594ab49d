"""The demo's sample candidates, generated into a HubStore at run time (never committed).

Each sample is a recipe: a list of commits (files, message, date, tags). Bytes are
deterministic, so ``build_samples`` is idempotent: a repo whose recorded recipe digest
matches is left alone, any other is rebuilt. To swap in other weights (a real small LM
for the eval stage), change ``clean_model_files``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from curator.demo import artifacts, cards
from curator.demo.store import HubStore

#: the Hub's default .gitattributes, shortened to the patterns these samples use
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in (
    "*.bin", "*.ckpt", "*.gguf", "*.h5", "*.onnx", "*.pkl", "*.pt", "*.pth", "*.safetensors"))


@dataclass(frozen=True)
class SampleInfo:
    """One demo candidate and what a review of it should conclude."""

    repo_id: str
    description: str
    #: approve | reject | needs-review
    recommendation: str
    #: the verdict words a review should show: the recommendation first, then the reasons
    expected: tuple[str, ...]
    #: branch or tag -> commit sha, as built
    refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleCommit:
    files: Mapping[str, bytes]
    message: str
    date: datetime
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    repo_id: str
    description: str
    recommendation: str
    expected: tuple[str, ...]
    commits: Callable[[], list[SampleCommit]]


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _support_files() -> dict[str, bytes]:
    return {
        ".gitattributes": GITATTRIBUTES.encode(),
        "config.json": _json(artifacts.TINY_GPT2),
        "generation_config.json": _json({"bos_token_id": 0, "eos_token_id": 0, "max_new_tokens": 64,
                                         "transformers_version": "4.46.0"}),
        "tokenizer_config.json": _json({"tokenizer_class": "GPT2Tokenizer", "model_max_length": 128,
                                        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                                        "unk_token": "<|endoftext|>", "add_prefix_space": False}),
    }


def clean_model_files(name: str, seed: int, version: str, accuracy: float) -> dict[str, bytes]:
    """A complete, safetensors-only model folder: the shape every good candidate has."""
    return {**_support_files(), "model.safetensors": artifacts.tiny_gpt2_safetensors(seed),
            "README.md": cards.complete_card(name, version, accuracy).encode()}


def _clean() -> list[SampleCommit]:
    return [
        SampleCommit(clean_model_files("tinyllama-clean", 1, "v1.0", 0.26), "Release v1.0",
                     _day("2025-01-15T10:00:00"), ("v1.0",)),
        SampleCommit(clean_model_files("tinyllama-clean", 2, "v1.1", 0.27), "Release v1.1: retrained",
                     _day("2025-03-01T09:30:00")),
    ]


def _pickled() -> list[SampleCommit]:
    files = clean_model_files("tinyllama-pickled", 3, "v1.0", 0.27)
    del files["model.safetensors"]
    # a legacy raw-pickle checkpoint whose first entry calls os.system('true') when loaded
    files["pytorch_model.bin"] = artifacts.reduce_pickle("os", "system", "true")
    return [SampleCommit(files, "Upload PyTorch checkpoint", _day("2025-02-10T14:00:00"))]


def _finetune() -> list[SampleCommit]:
    files = {**_support_files(), "model.safetensors": artifacts.tiny_gpt2_safetensors(4),
             "README.md": cards.thin_card().encode()}
    return [SampleCommit(files, "Upload GPT2LMHeadModel", _day("2025-04-02T21:17:00"))]


def _typosquat() -> list[SampleCommit]:
    # the card is a copy of the genuine one; only the org name (1 for l) and the weights differ
    return [SampleCommit(clean_model_files("tinyllama-clean", 5, "v1.1", 0.27), "Release v1.1: retrained",
                         _day("2025-03-02T08:00:00"))]


#: in the order a demo queue shows them; the genuine clean model comes first
RECIPES: tuple[Recipe, ...] = (
    Recipe("acme-labs/tinyllama-clean",
           "Acme Labs' tiny GPT-2: safetensors, complete model card, tagged v1.0 and a newer main",
           "approve", ("approve", "safetensors", "apache-2.0"), _clean),
    Recipe("acme-labs/tinyllama-pickled",
           "Same model shipped as a raw pickle pytorch_model.bin that calls os.system when loaded",
           "reject", ("reject", "pickle", "os", "system"), _pickled),
    Recipe("hobbyist99/tinyllama-finetune",
           "Unsigned community fine-tune with an auto-generated card full of placeholders",
           "needs-review", ("needs-review", "unsigned", "More Information Needed", "license"), _finetune),
    Recipe("acme-1abs/tinyllama-clean",
           "Look-alike of acme-labs/tinyllama-clean (digit 1 for the letter l), copied card, other weights",
           "reject", ("reject", "typosquat", "acme-labs/tinyllama-clean"), _typosquat),
)


def _digest(commits: list[SampleCommit]) -> str:
    h = hashlib.sha256()
    for c in commits:
        h.update(f"{c.message}\0{c.date.isoformat()}\0{','.join(c.tags)}\n".encode())
        for path in sorted(c.files):
            h.update(f"{path}\0{hashlib.sha256(c.files[path]).hexdigest()}\n".encode())
    return h.hexdigest()


# -- a real small LM for the eval stage (curator.demo.smollm) ----------------------------------
#: the clean sample's claims on curator's own task set: SmolLM2's scores as curator measured them
REAL_LM_CLAIMS = {"curator/basics": ("acc", 0.76), "curator/completion": ("acc_norm", 0.86)}


def _with_real_lm(recipe: Recipe, real_lm: Path) -> Recipe:
    """The clean sample with its newest release (main) carrying SmolLM2 instead of the tiny GPT-2."""
    from curator.demo import smollm

    def commits() -> list[SampleCommit]:
        first = recipe.commits()[0]
        files = {".gitattributes": GITATTRIBUTES.encode(), **smollm.model_files(real_lm),
                 "README.md": smollm.smollm_card("v1.1", REAL_LM_CLAIMS).encode()}
        return [first, SampleCommit(files, "Release v1.1: SmolLM2-135M-Instruct weights",
                                    _day("2025-03-01T09:30:00"))]

    return Recipe(recipe.repo_id, "Acme Labs' SmolLM2-135M-Instruct (a real small LM): safetensors, "
                  "complete model card with claims the eval checks, tagged v1.0 and a newer main",
                  recipe.recommendation, recipe.expected, commits)


def build_samples(root: Path, real_lm: Path | None = None) -> list[SampleInfo]:
    """Write every sample candidate into the HubStore at ``root``; fast and idempotent.

    ``real_lm``: a folder from ``curator.demo.smollm.smollm_safetensors``; the clean sample's
    main then carries that real model (the eval stage measures it) instead of the tiny one.
    """
    store = HubStore(root)
    built = []
    recipes = [_with_real_lm(r, real_lm) if real_lm and r is RECIPES[0] else r for r in RECIPES]
    for recipe in recipes:
        commits = recipe.commits()
        digest = _digest(commits)
        repo = store.repo(recipe.repo_id)
        if repo is None or not repo.published or repo.settings.get("sample_digest") != digest:
            store.delete(recipe.repo_id)
            for c in commits:
                store.publish(recipe.repo_id, c.files, tags=c.tags, message=c.message, date=c.date)
            store.configure(recipe.repo_id, sample_digest=digest)
            repo = store.repo(recipe.repo_id)
        assert repo is not None
        known = repo.refs()
        built.append(SampleInfo(recipe.repo_id, recipe.description, recipe.recommendation,
                                recipe.expected, {**known["branches"], **known["tags"]}))
    return built
