"""TensorFlow SavedModel graphs: ops that run Python, read or write files, outside TF's own saver.

The ``saved_model.pb`` protobuf is walked by hand (no ``tensorflow``): every NodeDef of the
graph and of every library function is read for its op name and ``output_stream`` attribute.
TF2 saves always carry ``SaveV2``/``RestoreV2``/``MergeV2Checkpoints`` in the
``__inference__traced_save_*`` / ``__inference__traced_restore_*`` functions (TF1: the
``save/`` name scope); there they are the checkpoint machinery, anywhere else a finding.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from curator.core.models import Finding, Severity
from curator.stages.scan.checks.protobuf import Buffer, ProtobufUnreadable, fields, message_fields

#: ops that run Python or touch arbitrary files whenever the graph runs
RUNS_CODE_OR_FILES = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc", "WriteFile", "ReadFile",
                                "MatchingFiles", "ImmutableConst", "CreateSummaryFileWriter",
                                "CreateSummaryDbWriter", "DebugIdentityV2", "DebugIdentityV3",
                                "LoadLibrary", "IsDirectory", "FileExists", "DeleteFile"})
#: checkpoint and dataset file ops: fine inside the saver, a finding elsewhere
SAVER_OPS = frozenset({"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice",
                       "MergeV2Checkpoints"})
READS_FILES = frozenset({"TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset",
                         "TextLineDatasetV2", "TFRecordDatasetV2", "FixedLengthRecordDatasetV2",
                         "LoadAndRemapMatrix", "LoadDataset", "SaveDataset", "SaveDatasetV2",
                         "ExperimentalSaveDataset", "SnapshotDataset", "SnapshotDatasetV2"})
#: vocabulary tables read an asset file that ships with the model: worth a look, not a block
READS_ASSETS = frozenset({"InitializeTableFromTextFile", "InitializeTableFromTextFileV2"})
_SAVER_FUNCTION = re.compile(r"^__inference__traced_(save|restore)_\d+$")
MAX_DEPTH = 32


class SavedModelUnreadable(Exception):
    """The file is not a SavedModel protobuf the walk can follow."""


@dataclass
class Graph:
    """Every op found: (op, node name, enclosing function or '', output_stream attribute)."""

    nodes: list[tuple[str, str, str, str]] = field(default_factory=list)
    functions: int = 0


def read_saved_model(fh: BinaryIO, size: int, meta_graph: bool = False) -> Graph:
    """Every op of a ``saved_model.pb`` (or, with ``meta_graph``, of a TF1 ``.meta`` MetaGraphDef)."""
    if size == 0:
        raise SavedModelUnreadable("empty file")
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        try:
            if meta_graph:
                graph = Graph()
                _meta_graph(buf, 0, size, graph)
                return graph
            return _saved_model(buf, size)
        except ProtobufUnreadable as exc:
            raise SavedModelUnreadable(str(exc)) from exc


def looks_like_meta_graph(buf: Buffer, size: int) -> bool:
    """A TF1 ``model.ckpt.meta``: a MetaGraphDef whose graph (field 2) holds NodeDefs with ops."""
    try:
        graph = Graph()
        _meta_graph(buf, 0, size, graph)
    except (ProtobufUnreadable, UnicodeDecodeError):
        return False
    return bool(graph.nodes)


def looks_like_saved_model(buf: Buffer, size: int) -> bool:
    """Field 1 a schema version (varint), field 2 a MetaGraphDef whose graph has NodeDefs with ops."""
    try:
        top = message_fields(buf, 0, size)
        if not top or top[0][:2] != (1, 0) or not any(n == 2 and w == 2 for n, w, _, _ in top):
            return False
        graph = Graph()
        _saved_model(buf, size, graph)
    except (ProtobufUnreadable, UnicodeDecodeError):
        return False
    return bool(graph.nodes)


def check_graph(graph: Graph, where: str) -> list[Finding]:
    findings = []
    seen: set[tuple[str, str]] = set()
    for op, node, function, stream in graph.nodes:
        in_saver = bool(_SAVER_FUNCTION.match(function)) or (not function and node.startswith("save/"))
        problem: tuple[Severity, str] | None = None
        if op in RUNS_CODE_OR_FILES:
            problem = (Severity.CRITICAL, "runs Python or reads/writes files whenever the graph runs")
        elif op in SAVER_OPS and not in_saver:
            problem = (Severity.HIGH, "reads or writes a checkpoint outside TF's saver functions")
        elif op in READS_FILES:
            problem = (Severity.HIGH, "reads or writes files through a dataset op")
        elif op in ("Print", "PrintV2") and stream.startswith("file://"):
            problem = (Severity.CRITICAL, f"prints to the file {stream[7:]!r}")
        elif op in READS_ASSETS:
            problem = (Severity.MEDIUM, "reads a vocabulary file when the table initialises")
        if problem and (op, function) not in seen:
            seen.add((op, function))
            place = f"function {function!r}" if function else "the graph"
            findings.append(Finding(problem[0], "tf-graph-op",
                                    f"{where}: op {op} (node {node!r} in {place}) {problem[1]}"))
    return findings


def _saved_model(buf: Buffer, size: int, graph: Graph | None = None) -> Graph:
    graph = graph if graph is not None else Graph()
    for number, wire, start, end in fields(buf, 0, size):
        if number == 2 and wire == 2:  # MetaGraphDef
            _meta_graph(buf, start, end, graph)
    return graph


def _meta_graph(buf: Buffer, start: int, end: int, graph: Graph) -> None:
    for n, w, s, e in fields(buf, start, end):
        if n == 2 and w == 2:  # GraphDef
            _graph_def(buf, s, e, graph)


def _graph_def(buf: Buffer, start: int, end: int, graph: Graph) -> None:
    for number, wire, s, e in fields(buf, start, end):
        if number == 1 and wire == 2:
            _node(buf, s, e, "", graph)
        elif number == 2 and wire == 2:  # FunctionDefLibrary
            for n, w, fs, fe in fields(buf, s, e):
                if n == 1 and w == 2:
                    _function(buf, fs, fe, graph)


def _function(buf: Buffer, start: int, end: int, graph: Graph) -> None:
    graph.functions += 1
    name, nodes = "", []
    for number, wire, s, e in fields(buf, start, end):
        if number == 1 and wire == 2:  # OpDef signature: field 1 is the function's name
            name = next((_text(buf, ns, ne) for n, w, ns, ne in fields(buf, s, e) if n == 1 and w == 2), "")
        elif number == 3 and wire == 2:
            nodes.append((s, e))
    for s, e in nodes:
        _node(buf, s, e, name or "?", graph)


def _node(buf: Buffer, start: int, end: int, function: str, graph: Graph) -> None:
    name = op = stream = ""
    for number, wire, s, e in fields(buf, start, end):
        if wire != 2:
            continue
        if number == 1:
            name = _text(buf, s, e)
        elif number == 2:
            op = _text(buf, s, e)
        elif number == 5:  # attr map entry: key (1), AttrValue (2) whose s (2) is bytes
            entry = {n: (fs, fe) for n, w, fs, fe in fields(buf, s, e) if w == 2}
            if 1 in entry and 2 in entry and _text(buf, *entry[1]) == "output_stream":
                value = {n: (vs, ve) for n, w, vs, ve in fields(buf, *entry[2]) if w == 2}
                if 2 in value:
                    stream = _text(buf, *value[2])
    if op:
        graph.nodes.append((op, name, function, stream))


def _text(buf: Buffer, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8")


def ops_in_pbtxt(text: str) -> Graph:
    """A ``saved_model.pbtxt``: op names and print streams read from the text format."""
    graph = Graph()
    for match in re.finditer(r'\bop:\s*"([A-Za-z0-9_>.]+)"', text):
        graph.nodes.append((match.group(1), "?", "?pbtxt", ""))
    for match in re.finditer(r'output_stream"\s*value\s*\{\s*s:\s*"(file://[^"]*)"', text):
        graph.nodes.append(("PrintV2", "?", "?pbtxt", match.group(1)))
    return graph
