"""Keras model configs: Lambda layers carry marshalled bytecode; foreign modules import anything.

Both the Keras 3 ``config.json`` (inside ``.keras`` zips) and the legacy HDF5 ``model_config``
attribute are JSON; HDF5 is opened by libhdf5 in a child process, never in curator's own.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.scan.rules import GlobalRules

KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "keras_hub", "keras_nlp", "keras_cv")
_READ_H5 = (
    "import base64, h5py, json, sys\n"
    "import numpy as np\n"
    "with h5py.File(sys.argv[1], 'r') as f:\n"
    "    out = {}\n"
    "    for k in ('model_config', 'training_config', 'keras_version', 'backend'):\n"
    "        if k in f.attrs:\n"
    "            v = f.attrs[k]\n"
    "            out[k] = v.decode('utf-8', 'replace') if isinstance(v, bytes) else str(v)\n"
    # PyTables (pandas.read_hdf) unpickles any string attribute that ends with '.'
    "    dotted, budget = [], [16 << 20]\n"
    "    def look(name, obj):\n"
    "        for k in obj.attrs:\n"
    "            try:\n"
    "                v = obj.attrs[k]\n"
    "            except Exception:\n"
    "                continue\n"
    "            v = v.encode('utf-8', 'surrogateescape') if isinstance(v, str) else v\n"
    "            if isinstance(v, (bytes, np.bytes_)) and bytes(v).endswith(b'.') and budget[0] > 0:\n"
    "                budget[0] -= len(v)\n"
    "                dotted.append([name, k, base64.b64encode(bytes(v)).decode()])\n"
    "    look('', f)\n"
    "    f.visititems(look)\n"
    "    out['dotted_attributes'] = dotted\n"
    "    json.dump(out, sys.stdout)\n"
)


class KerasUnreadable(Exception):
    """The HDF5 file could not be opened to read its model config."""


#: Keras objects that fetch, read or write files, load other models, or turn safe mode off
KERAS_DANGEROUS_NAMES = frozenset({
    "get_file", "load_model", "load_weights", "save_model", "save_weights", "load_img", "save_img",
    "enable_unsafe_deserialization", "image_dataset_from_directory", "text_dataset_from_directory",
    "audio_dataset_from_directory", "plot_model", "model_to_dot", "TFSMLayer", "deserialize_keras_object",
    "custom_object_scope", "CustomObjectScope", "get_custom_objects", "register_keras_serializable",
    "validate_file", "extract_archive", "TensorBoard", "ModelCheckpoint", "BackupAndRestore", "CSVLogger",
    "RemoteMonitor", "LambdaCallback", "Lambda", "save", "load",
})
#: where a Keras function reference may point: math, no I/O
KERAS_FUNCTION_MODULES = ("activations", "losses", "metrics", "initializers", "regularizers", "constraints",
                          "ops", "optimizers", "layers", "backend")


def is_keras_module(module: str) -> bool:
    """``keras`` or a submodule of it (``keras_evil`` is not ``keras``)."""
    return any(module == k or module.startswith(k + ".") for k in KERAS_MODULES)


def _math_module(module: str) -> bool:
    """``keras.activations``, ``keras.src.ops.numpy``, ``tf_keras.losses``: no I/O in there."""
    for root in sorted(KERAS_MODULES, key=len, reverse=True):
        if module.startswith(root + "."):
            rest = module[len(root) + 1:].removeprefix("src.")
            return rest.split(".", 1)[0] in KERAS_FUNCTION_MODULES
    return False


def check_keras_config(doc: object, rules: GlobalRules, where: str) -> list[Finding]:
    """Lambda layers, objects from outside Keras, Keras functions that reach files: anywhere in a config."""
    findings = []
    for node in _dicts(doc):
        cls = node.get("class_name")
        if cls == "Lambda":
            config = node.get("config")
            name = config.get("name", "?") if isinstance(config, dict) else "?"
            findings.append(Finding(Severity.HIGH, "keras-lambda-layer",
                                    f"{where}: Lambda layer {name!r} carries Python bytecode that runs "
                                    "when the model is loaded without safe_mode"))
        elif cls == "__lambda__" or node.get("function_type") == "lambda":
            # any object a config takes a function for (an activation, a loss, an initializer) can be a
            # marshalled lambda: Keras turns it back into code wherever it appears
            findings.append(Finding(Severity.HIGH, "keras-lambda-layer",
                                    f"{where}: config holds a serialized lambda (Python bytecode) that "
                                    "runs when the model is loaded without safe_mode"))
        module = node.get("module")
        if not isinstance(module, str) or not isinstance(cls, str):
            continue
        target = node.get("config") if cls == "function" and isinstance(node.get("config"), str) else cls
        dotted = f"{module}.{target}"
        if not is_keras_module(module):
            severity = Severity.CRITICAL if rules.is_dangerous(module, str(target)) else Severity.HIGH
            findings.append(Finding(severity, "keras-foreign-object",
                                    f"{where}: config deserializes {dotted}, which is not part of Keras"))
        elif target in KERAS_DANGEROUS_NAMES and target != "Lambda":
            findings.append(Finding(Severity.CRITICAL, "keras-file-access",
                                    f"{where}: config calls {dotted}, which fetches, reads or writes files, "
                                    "loads another model or turns safe mode off"))
        elif cls == "function" and not _math_module(module):
            findings.append(Finding(Severity.HIGH, "keras-function-reference",
                                    f"{where}: config references the function {dotted}, outside Keras's "
                                    "math modules"))
    return findings


def keras_metadata_configs(data: bytes) -> list[tuple[str, Any]]:
    """The JSON layer configs in a Keras SavedModel ``keras_metadata.pb`` (SavedMetadata.nodes[].metadata)."""
    from curator.stages.scan.checks.protobuf import ProtobufUnreadable, fields

    found: list[tuple[str, Any]] = []
    try:
        for number, wire, start, end in fields(data, 0, len(data)):
            if number != 1 or wire != 2:
                continue
            for n, w, s, e in fields(data, start, end):
                if n == 5 and w == 2:
                    text = data[s:e].decode("utf-8")
                    found.append((f"node {len(found)} metadata", json.loads(text)))
    except (ProtobufUnreadable, UnicodeDecodeError, ValueError) as exc:
        raise KerasUnreadable(f"keras_metadata.pb does not parse ({exc})") from exc
    return found


def looks_like_keras(doc: object) -> bool:
    """A JSON document that is a Keras model config (not, say, a transformers config.json)."""
    return isinstance(doc, dict) and "class_name" in doc and isinstance(doc.get("config"), dict)


def read_h5_model_config(path: Path, timeout: float) -> tuple[Any, list[tuple[str, bytes]]]:
    """The parsed ``model_config`` attribute of a Keras HDF5 file (None if it has none), and every
    string attribute ending in ``.`` (``object/attribute``, bytes): PyTables, under ``pandas.read_hdf``,
    unpickles those when it reads them.

    A ``training_config`` (losses, metrics, optimizer: objects the loader deserializes too) is
    returned inside the config under ``__training_config__``.
    """
    try:
        done = subprocess.run([sys.executable, "-c", _READ_H5, str(path)], capture_output=True,
                              timeout=timeout, check=False, text=True)
    except subprocess.TimeoutExpired as exc:
        raise KerasUnreadable(f"reading the HDF5 attributes took over {timeout:.0f}s") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        raise KerasUnreadable(f"libhdf5 could not open it ({tail[:200]})")
    attrs = json.loads(done.stdout or "{}")
    dotted = [(f"/{obj}/{key}" if obj else f"/{key}", base64.b64decode(value))
              for obj, key, value in attrs.get("dotted_attributes", [])]
    raw = attrs.get("model_config")
    if raw is None:
        return None, dotted
    try:
        config = json.loads(raw)
        if attrs.get("training_config") and isinstance(config, dict):
            config["__training_config__"] = json.loads(attrs["training_config"])
    except ValueError as exc:
        raise KerasUnreadable(f"model_config or training_config attribute is not JSON ({exc})") from exc
    return config, dotted


def _dicts(doc: object) -> Iterator[dict[str, Any]]:
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
