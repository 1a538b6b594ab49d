"""The demo's sample candidates, generated into a HubStore at run time (never committed).

Each sample is a recipe: a list of commits (files, message, date, tags) and who signs
them. Bytes are deterministic, so ``build_samples`` is idempotent: a repo whose recorded
recipe digest (unsigned bytes plus the signer's certificate) matches is left alone, any
other is rebuilt and, given the demo's publishers, signed in the OpenSSF model-signing
format. Every language model ships a tokenizer, so the eval stage can run on each.
To swap in other weights (a real small LM for the eval stage), change ``clean_model_files``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from curator.demo import artifacts, cards, tokenizer
from curator.demo.store import HubStore

if TYPE_CHECKING:
    from curator.demo.pki import DemoPublisher

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
    #: (revision, what it shows) for each queue entry of this sample
    queue: tuple[tuple[str, str], ...] = ()


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
    #: who signs every commit: "publisher" (acme-labs' release signer), "impostor", or nobody
    signer: str | None = None
    #: (revision, what it shows) for each queue entry; default: main, with the description
    queue: tuple[tuple[str, str], ...] = ()
    #: built by the background preparation (the real LM), not at once
    needs_real_lm: bool = False

    def entries(self) -> tuple[tuple[str, str], ...]:
        return self.queue or (("main", self.description),)


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
        **tokenizer.tokenizer_files(),
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
                     _day("2025-03-01T09:30:00"), ("v1.1",)),
        SampleCommit(clean_model_files("tinyllama-clean", 6, "v1.2", 0.29), V12_MESSAGE,
                     _day("2025-05-20T11:00:00"), ("v1.2",)),
    ]


V12_MESSAGE = "Release v1.2: re-quantized weights, updated evaluation claims"


def _impostor() -> list[SampleCommit]:
    # acme-labs' own chat variant, re-uploaded by a contractor's CI: signed, but not by acme-labs
    return [SampleCommit(clean_model_files("tinyllama-chat", 7, "v1.0", 0.27), "Upload from CI",
                         _day("2025-04-11T16:45:00"))]


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
CLEAN_QUEUE = (
    ("v1.1", "Acme Labs' release v1.1, signed by Acme Labs: review it, approve it, verify it"),
    ("main", "v1.2, the next commit (re-quantized, new claims): diff it against v1.1, swap, roll back"),
)
RECIPES: tuple[Recipe, ...] = (
    Recipe("acme-labs/tinyllama-clean",
           "Acme Labs' tiny GPT-2: safetensors, complete signed model card, releases v1.0, v1.1, v1.2",
           "approve", ("approve", "safetensors", "apache-2.0"), _clean, "publisher", CLEAN_QUEUE),
    Recipe("acme-labs/tinyllama-pickled",
           "Signed by Acme Labs, but a raw pickle pytorch_model.bin that calls os.system when loaded",
           "reject", ("reject", "pickle", "os", "system"), _pickled, "publisher"),
    Recipe("acme-labs/tinyllama-chat",
           "Validly signed, but by a contractor's CI certificate, not Acme Labs' release signer",
           "reject", ("reject", "signature", "QuickBuild"), _impostor, "impostor"),
    Recipe("hobbyist99/tinyllama-finetune",
           "Unsigned community fine-tune with an auto-generated card full of placeholders",
           "needs-review", ("needs-review", "unsigned", "More Information Needed", "license"), _finetune),
    Recipe("acme-1abs/tinyllama-clean",
           "Look-alike of acme-labs/tinyllama-clean (digit 1 for the letter l), copied card, other weights",
           "reject", ("reject", "typosquat", "acme-labs/tinyllama-clean"), _typosquat),
)


def _digest(commits: list[SampleCommit], signer: DemoPublisher | None) -> str:
    h = hashlib.sha256()
    if signer is not None:  # new demo keys mean new signatures
        h.update(b"signed by " + signer.leaf.read_bytes())
    for c in commits:
        h.update(f"{c.message}\0{c.date.isoformat()}\0{','.join(c.tags)}\n".encode())
        for path in sorted(c.files):
            h.update(f"{path}\0{hashlib.sha256(c.files[path]).hexdigest()}\n".encode())
    return h.hexdigest()


# -- a real small LM for the eval stage (curator.demo.smollm) ----------------------------------
#: the clean sample's claims on curator's own task set: SmolLM2's scores as curator measured them
REAL_LM_CLAIMS = {"curator/basics": ("acc", 0.76), "curator/completion": ("acc_norm", 0.86)}
#: v1.2's card claims a little more after the re-quantization: the diff shows the change
REAL_LM_CLAIMS_V12 = {"curator/basics": ("acc", 0.77), "curator/completion": ("acc_norm", 0.86)}


def _with_real_lm(recipe: Recipe, real_lm: Path) -> Recipe:
    """The clean sample with releases v1.1 and v1.2 carrying SmolLM2 instead of the tiny GPT-2."""
    from curator.demo import smollm

    def commits() -> list[SampleCommit]:
        first = recipe.commits()[0]
        base = {".gitattributes": GITATTRIBUTES.encode(), **smollm.model_files(real_lm)}
        v11 = {**base, "README.md": smollm.smollm_card("v1.1", REAL_LM_CLAIMS).encode()}
        v12 = {**base, **smollm.model_files(real_lm, requantized=True),
               "README.md": smollm.smollm_card("v1.2", REAL_LM_CLAIMS_V12, "bfloat16").encode()}
        return [first,
                SampleCommit(v11, "Release v1.1: SmolLM2-135M-Instruct weights", _day("2025-03-01T09:30:00"),
                             ("v1.1",)),
                SampleCommit(v12, V12_MESSAGE, _day("2025-05-20T11:00:00"), ("v1.2",))]

    return Recipe(recipe.repo_id, "Acme Labs' SmolLM2-135M-Instruct (a real small LM): safetensors, "
                  "complete signed model card with claims the eval checks, releases v1.0, v1.1, v1.2",
                  recipe.recommendation, recipe.expected, commits, recipe.signer, recipe.queue, True)


def recipes(real_lm: Path | None = None) -> list[Recipe]:
    """The samples in queue order; with ``real_lm`` the clean one carries SmolLM2."""
    return [_with_real_lm(r, real_lm) if real_lm and r is RECIPES[0] else r for r in RECIPES]


def build_samples(root: Path, real_lm: Path | None = None,
                  signers: Mapping[str, DemoPublisher] | None = None,
                  only: Collection[str] | None = None) -> list[SampleInfo]:
    """Write every sample candidate into the HubStore at ``root``; fast and idempotent.

    ``real_lm``: a folder from ``curator.demo.smollm.smollm_safetensors``; the clean sample's
    releases v1.1 and v1.2 then carry that real model (the eval stage measures it) instead
    of the tiny one. ``signers`` (``"publisher"``, ``"impostor"``) sign the recipes that name
    them; without, every sample is unsigned. ``only``: build just these repo ids.
    """
    store = HubStore(root)
    built = []
    for recipe in recipes(real_lm):
        if only is not None and recipe.repo_id not in only:
            continue
        signer = (signers or {}).get(recipe.signer or "")
        commits = recipe.commits()
        digest = _digest(commits, signer)
        repo = store.repo(recipe.repo_id)
        if repo is None or not repo.published or repo.settings.get("sample_digest") != digest:
            store.delete(recipe.repo_id)
            for c in commits:
                files = {**c.files, SIGNATURE: _signature(c.files, signer)} if signer else c.files
                store.publish(recipe.repo_id, files, tags=c.tags, message=c.message, date=c.date)
            store.configure(recipe.repo_id, sample_digest=digest)
            repo = store.repo(recipe.repo_id)
        assert repo is not None
        known = repo.refs()
        built.append(SampleInfo(recipe.repo_id, recipe.description, recipe.recommendation,
                                recipe.expected, {**known["branches"], **known["tags"]}, recipe.entries()))
    return built


SIGNATURE = "model.sig"


def _signature(files: Mapping[str, bytes], signer: DemoPublisher) -> bytes:
    """Sign the commit's files as the publisher would before uploading them."""
    import tempfile

    from curator.demo.pki import sign_folder

    with tempfile.TemporaryDirectory(prefix="curator-demo-sign-") as tmp:
        folder = Path(tmp)
        for path, data in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
        return sign_folder(folder, signer)
