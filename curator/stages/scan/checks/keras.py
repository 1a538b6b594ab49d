"""Keras model configs: Lambda layers carry marshalled bytecode; foreign modules import anything.

Both the Keras 3 ``config.json`` (inside ``.keras`` zips) and the legacy HDF5 ``model_config``
attribute are JSON; HDF5 is opened by libhdf5 in a child process, never in curator's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.scan.config import GlobalRules

KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "keras_hub", "keras_nlp", "keras_cv")
_READ_H5 = (
    "import h5py, json, sys\n"
    "with h5py.File(sys.argv[1], 'r') as f:\n"
    "    out = {}\n"
    "    for k in ('model_config', 'training_config', 'keras_version', 'backend'):\n"
    "        if k in f.attrs:\n"
    "            v = f.attrs[k]\n"
    "            out[k] = v.decode('utf-8', 'replace') if isinstance(v, bytes) else str(v)\n"
    "    json.dump(out, sys.stdout)\n"
)


class KerasUnreadable(Exception):
    """The HDF5 file could not be opened to read its model config."""


def check_keras_config(doc: Any, rules: GlobalRules, where: str) -> list[Finding]:
    """Lambda layers and objects from outside Keras, anywhere in a model config."""
    findings = []
    for node in _dicts(doc):
        cls = node.get("class_name")
        if cls == "Lambda":
            config = node.get("config")
            name = config.get("name", "?") if isinstance(config, dict) else "?"
            findings.append(Finding(Severity.HIGH, "keras-lambda-layer",
                                    f"{where}: Lambda layer {name!r} carries Python bytecode that runs "
                                    "when the model is loaded without safe_mode"))
        module = node.get("module")
        if isinstance(module, str) and isinstance(cls, str) and not module.startswith(KERAS_MODULES):
            dotted = f"{module}.{cls}"
            severity = Severity.CRITICAL if rules.is_dangerous(dotted) else Severity.HIGH
            findings.append(Finding(severity, "keras-foreign-object",
                                    f"{where}: config deserializes {dotted}, which is not part of Keras"))
    return findings


def looks_like_keras(doc: Any) -> bool:
    """A JSON document that is a Keras model config (not, say, a transformers config.json)."""
    return isinstance(doc, dict) and "class_name" in doc and isinstance(doc.get("config"), dict)


def read_h5_model_config(path: Path, timeout: float) -> Any:
    """The parsed ``model_config`` attribute of a Keras HDF5 file, or None if it has none."""
    try:
        done = subprocess.run([sys.executable, "-c", _READ_H5, str(path)], capture_output=True,
                              timeout=timeout, check=False, text=True)
    except subprocess.TimeoutExpired as exc:
        raise KerasUnreadable(f"reading the HDF5 attributes took over {timeout:.0f}s") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        raise KerasUnreadable(f"libhdf5 could not open it ({tail[:200]})")
    attrs = json.loads(done.stdout or "{}")
    raw = attrs.get("model_config")
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise KerasUnreadable(f"model_config attribute is not JSON ({exc})") from exc


def _dicts(doc: Any) -> Iterator[dict[str, Any]]:
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
