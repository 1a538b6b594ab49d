"""TensorFlow SavedModel files written from the protobuf schema, byte by byte (no tensorflow needed).

``saved_model.pb`` (SavedModel -> MetaGraphDef -> GraphDef / FunctionDefLibrary -> NodeDef),
``fingerprint.pb``, ``keras_metadata.pb`` and a ``variables/`` checkpoint whose index ends with
the TF table footer.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.scan.formats import field_bytes, field_varint

TABLE_MAGIC = struct.pack("<Q", 0xDB4775248B80FB57)
Node = tuple[str, str, dict[str, str]]  # name, op, string attributes


def node_def(name: str, op: str, attrs: dict[str, str] | None = None, inputs: tuple[str, ...] = ()) -> bytes:
    body = field_bytes(1, name) + field_bytes(2, op) + b"".join(field_bytes(3, i) for i in inputs)
    for key, value in (attrs or {}).items():
        body += field_bytes(5, field_bytes(1, key) + field_bytes(2, field_bytes(2, value)))
    return body


def function_def(name: str, nodes: list[Node]) -> bytes:
    return field_bytes(1, field_bytes(1, name)) + b"".join(
        field_bytes(3, node_def(n, op, attrs)) for n, op, attrs in nodes)


def saved_model(path: Path, graph: list[Node], functions: dict[str, list[Node]]) -> Path:
    graph_def = b"".join(field_bytes(1, node_def(n, op, attrs)) for n, op, attrs in graph)
    library = b"".join(field_bytes(1, function_def(name, body)) for name, body in functions.items())
    graph_def += field_bytes(2, library) + field_bytes(4, field_varint(1, 1645) + field_varint(2, 12))
    meta_info = (field_bytes(1, "") + field_bytes(4, "serve") + field_bytes(5, "2.15.0")
                 + field_bytes(6, "v2.15.0"))
    saver = (field_bytes(1, "saver_filename:0") + field_bytes(2, "StatefulPartitionedCall_1:0")
             + field_bytes(3, "StatefulPartitionedCall_2") + field_varint(7, 2))
    meta_graph = field_bytes(1, meta_info) + field_bytes(2, graph_def) + field_bytes(3, saver)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(field_varint(1, 1) + field_bytes(2, meta_graph))
    return path


SERVING: list[Node] = [("x", "Placeholder", {}), ("dense/MatMul", "MatMul", {}),
                       ("dense/BiasAdd", "BiasAdd", {}), ("dense/Relu", "Relu", {}),
                       ("Identity", "Identity", {})]
SAVE: list[Node] = [("file_prefix", "Placeholder", {}), ("StaticRegexFullMatch", "StaticRegexFullMatch", {}),
                    ("Const", "Const", {}), ("Select", "Select", {}), ("StringJoin", "StringJoin", {}),
                    ("num_shards", "Const", {}), ("ShardedFilename", "ShardedFilename", {}),
                    ("SaveV2", "SaveV2", {}), ("MergeV2Checkpoints", "MergeV2Checkpoints", {}),
                    ("Identity", "Identity", {})]
RESTORE: list[Node] = [("RestoreV2", "RestoreV2", {}), ("AssignVariableOp", "AssignVariableOp", {}),
                       ("NoOp", "NoOp", {})]
GRAPH: list[Node] = [("saver_filename", "Placeholder", {}), ("dense/kernel", "VarHandleOp", {}),
                     ("StatefulPartitionedCall", "StatefulPartitionedCall", {}),
                     ("StatefulPartitionedCall_1", "StatefulPartitionedCall", {}),
                     ("StatefulPartitionedCall_2", "StatefulPartitionedCall", {})]


def benign_functions(**extra: list[Node]) -> dict[str, list[Node]]:
    """What TF2's ``tf.saved_model.save`` of one Dense layer writes (saver ops where TF puts them)."""
    return {"__inference_serving_default_105": SERVING, "__inference__traced_save_180": SAVE,
            "__inference__traced_restore_214": RESTORE, **extra}


def savedmodel_folder(folder: Path, graph: list[Node] | None = None,
                      functions: dict[str, list[Node]] | None = None,
                      keras_layers: list[dict[str, object]] | None = None) -> Path:
    """A SavedModel directory: saved_model.pb, fingerprint.pb, variables/, optionally keras_metadata.pb."""
    pb = saved_model(folder / "saved_model.pb", graph if graph is not None else GRAPH,
                     functions if functions is not None else benign_functions())
    fingerprint = b"".join(field_varint(n, 1234567890123 + n) for n in range(1, 6))
    (folder / "fingerprint.pb").write_bytes(fingerprint + field_bytes(6, field_varint(1, 1)))
    variables = folder / "variables"
    variables.mkdir(exist_ok=True)
    (variables / "variables.index").write_bytes(b"\x00\x0b\x0a\x01\x08\x00" * 12 + b"\x00" * 40 + TABLE_MAGIC)
    (variables / "variables.data-00000-of-00001").write_bytes(struct.pack("<8f", *range(8)) + b"\x00\x01\x02")
    if keras_layers is not None:
        keras_metadata(folder / "keras_metadata.pb", keras_layers)
    return pb


def keras_metadata(path: Path, layers: list[dict[str, object]]) -> Path:
    """SavedMetadata: one SavedObject per layer, its JSON config in field 5."""
    nodes = b""
    for node_id, layer in enumerate(layers):
        meta = json.dumps({"name": layer.get("config", {}).get("name", "layer"),  # type: ignore[union-attr]
                           "class_name": layer["class_name"], "config": layer["config"],
                           "trainable": True, "expects_training_arg": False})
        nodes += field_bytes(1, field_varint(2, node_id) + field_bytes(3, f"root.layer-{node_id}")
                             + field_bytes(4, "_tf_keras_layer") + field_bytes(5, meta)
                             + field_bytes(6, field_varint(1, 1)))
    path.write_bytes(nodes)
    return path
