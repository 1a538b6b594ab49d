"""What a signature must cover: weights and code are never excused by an ignore path.

Ignore paths (the signer's signed list, the reviewer's ``signature.ignore_paths``, and the git
paths model-signing leaves out of every signature) exist for notes, caches and CI files. A file
that holds weights or code is what a model signature is for, so one outside the signature
(ignored or unsigned) fails, whoever's ignore path let it in and whatever ``unsigned_files``
says: someone who can write to the hub repo but does not hold the key would otherwise drop
``.github/pytorch_model.bin`` beside a perfectly signed model.
"""

from __future__ import annotations

from collections.abc import Iterable

from curator.stages.signature.compare import is_ignored

#: files that hold weights (policy: signature.weight_suffixes)
WEIGHT_SUFFIXES = ("safetensors", "bin", "gguf", "pt", "pth", "ckpt", "onnx", "h5", "keras", "pb",
                   "tflite", "msgpack", "npz", "npy", "pkl", "pickle", "joblib", "nemo", "mlmodel",
                   "llamafile", "ggml", "mar")
#: files a loader may run (remote code, native extensions, scripts)
CODE_SUFFIXES = ("py", "pyc", "pyo", "pyd", "so", "dylib", "dll", "exe", "sh", "js", "ipynb")


def suffixes(names: Iterable[str]) -> tuple[str, ...]:
    """``safetensors`` or ``.safetensors`` -> ``.safetensors``, lower-cased, for ``endswith``."""
    return tuple("." + str(n).lower().lstrip(".") for n in names)


def must_be_signed(path: str, must_sign: tuple[str, ...]) -> str | None:
    """The suffix that makes ``path`` weights or code (compared without case), else None."""
    lower = path.lower()
    return next((s for s in must_sign if lower.endswith(s)), None)


def why_outside(path: str, signer_ignores: Iterable[str], reviewer_ignores: Iterable[str],
                git_paths: Iterable[str]) -> str:
    """In words: which ignore path let ``path`` out of the signature, or that nobody signed it."""
    for owner, paths in (("the signer's signed ignore list", signer_ignores),
                         ("curator's ignore paths", reviewer_ignores),
                         ("model-signing's git paths (never signed)", git_paths)):
        hit = next((p for p in paths if is_ignored(path, [p])), None)
        if hit is not None:
            return f"{owner} name {hit!r}"
    return "the signature does not name it"
