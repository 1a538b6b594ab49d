"""Code that ships inside a model repo: what ``trust_remote_code=True`` would run.

Every ``*.py`` file, every ``auto_map`` / ``custom_pipelines`` entry of a config, and every
tokenizer or processor class the installed ``transformers`` does not know is a high
finding. Python files get a static summary read with ``ast`` from their text (imports of
network, process and filesystem modules, ``exec``/``eval``/``compile``, long base64 or hex
blobs): nothing is ever imported or executed. Installed classes are looked up by name in
``transformers``' own source files, without importing the package.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from curator.core.evidence.scan import CustomCode
from curator.core.models import Finding, Severity

if TYPE_CHECKING:
    from curator.stages.scan.report import FileReport

#: finding codes that mean "custom code" (the decision rule and the TUI's code viewer read them)
PYTHON, AUTO_MAP, UNKNOWN_CLASS = "custom-code", "custom-code-auto-map", "custom-code-class"
CODES = frozenset({PYTHON, AUTO_MAP, UNKNOWN_CLASS})
RUNS = "loading this model with trust_remote_code=True runs this code"
MAX_SOURCE_BYTES = 4 << 20
MIN_BLOB_CHARS = 200
NETWORK = frozenset({"socket", "ssl", "http", "urllib", "urllib2", "urllib3", "requests", "httpx",
                     "aiohttp", "ftplib", "smtplib", "telnetlib", "poplib", "imaplib", "xmlrpc",
                     "websocket", "websockets", "paramiko", "pycurl", "grpc", "boto3", "botocore",
                     "huggingface_hub", "dns"})
PROCESS = frozenset({"subprocess", "pty", "multiprocessing", "ctypes", "cffi", "signal", "runpy",
                     "importlib", "pexpect", "sh", "marshal", "pickle", "dill", "cloudpickle"})
FILESYSTEM = frozenset({"shutil", "pathlib", "tempfile", "glob", "zipfile", "tarfile"})
OS_PROCESS = re.compile(r"^(system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork\w*|kill\w*|startfile)$")
OS_FILES = re.compile(r"^(remove|unlink|rmdir|removedirs|mkdir|makedirs|rename|renames|replace|chmod|"
                      r"chown|walk|listdir|scandir|open|symlink|link|truncate|write)$")
DYNAMIC = frozenset({"exec", "eval", "compile", "__import__"})
#: decoders that turn an opaque constant back into code or objects: the usual obfuscation
DECODERS = frozenset({"b64decode", "b32decode", "b85decode", "a85decode", "decodebytes", "unhexlify",
                      "fromhex", "decompress", "decode", "loads"})
DECODER_MODULES = frozenset({"base64", "binascii", "codecs", "zlib", "gzip", "bz2", "lzma", "marshal",
                             "pickle", "dill", "bytes"})
BASE64 = re.compile(r"^[A-Za-z0-9+/=_-]+$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
CLASS_KEYS = ("tokenizer_class", "processor_class", "image_processor_type", "feature_extractor_type",
              "video_processor_type")


def summarize_python(source: str) -> dict[str, Any]:
    """What a Python file reaches for, read from its syntax tree: imports by kind, dynamic code, blobs."""
    found: dict[str, Any] = {"imports": {"network": set(), "process": set(), "filesystem": set()},
                             "dynamic": [], "blobs": [], "lines": source.count("\n") + 1,
                             "parse_error": None}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        found["parse_error"] = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}"
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            _visit(node, found)
    kinds = found["imports"]
    found["imports"] = {k: sorted(v) for k, v in kinds.items()}
    found["dynamic"] = found["dynamic"][:20]
    found["blobs"] = found["blobs"][:20]
    return found


def _module_kind(module: str) -> str | None:
    top = module.split(".", 1)[0]
    if top in NETWORK:
        return "network"
    if top in PROCESS:
        return "process"
    if top in FILESYSTEM:
        return "filesystem"
    return None


def _visit(node: ast.AST, found: dict[str, Any]) -> None:
    kinds = found["imports"]
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for module in modules:
            if module.split(".", 1)[0] == "os":
                kinds["process"].add("os")
                kinds["filesystem"].add("os")
            elif kind := _module_kind(module):
                kinds[kind].add(module)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
        if OS_PROCESS.match(node.attr):
            kinds["process"].add(f"os.{node.attr}")
        elif OS_FILES.match(node.attr):
            kinds["filesystem"].add(f"os.{node.attr}")
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in DYNAMIC:
            found["dynamic"].append({"call": func.id, "line": node.lineno})
        elif isinstance(func, ast.Name) and func.id == "open":
            kinds["filesystem"].add("open()")
        elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id in DECODER_MODULES and func.attr in DECODERS):
            found["dynamic"].append({"call": f"{func.value.id}.{func.attr}", "line": node.lineno})
    elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        compact = "".join(text.split())
        if len(compact) >= MIN_BLOB_CHARS:
            kind = "hex" if HEX.match(compact) else "base64" if BASE64.match(compact) else None
            if kind:
                found["blobs"].append({"kind": kind, "chars": len(compact), "line": node.lineno})


def describe(summary: dict[str, Any]) -> str:
    """The summary in one phrase for a finding's message."""
    parts = [f"{kind}: {', '.join(names[:6])}" for kind, names in summary["imports"].items() if names]
    if summary["dynamic"]:
        calls = sorted({d["call"] for d in summary["dynamic"]})
        parts.append(f"exec/eval/decoding: {', '.join(calls)} (line {summary['dynamic'][0]['line']})")
    for blob in summary["blobs"][:2]:
        parts.append(f"{blob['kind']} blob of {blob['chars']:,} chars (line {blob['line']})")
    if summary.get("parse_error"):
        parts.append(f"does not parse ({summary['parse_error']}): read it by hand")
    return "; ".join(parts) if parts else "no network, process or filesystem use, no exec/eval, no blobs seen"


def python_finding(path: Path, where: str) -> tuple[Finding, dict[str, Any]]:
    """The high finding for one Python file, and its summary (for the stage evidence)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        data = fh.read(MAX_SOURCE_BYTES + 1)
    summary = summarize_python(data[:MAX_SOURCE_BYTES].decode("utf-8", errors="replace"))
    summary["bytes"] = size
    if size > MAX_SOURCE_BYTES:
        summary["parse_error"] = f"only the first {MAX_SOURCE_BYTES >> 20} MiB were read"
    return Finding(Severity.HIGH, PYTHON, f"{where} is Python code shipped with the model: {RUNS}; "
                   f"{describe(summary)}"), summary


def _references(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):  # custom_pipelines: {task: {impl: "module.Class", pt: [...], ...}}
        return [v for v in value.values() if isinstance(v, str) and "." in v]
    return []


def _resolve(reference: str, folder: Path | None) -> dict[str, Any]:
    """``module.Class`` (or ``org/repo--module.Class``) -> the file a loader would run."""
    repo, _, local = reference.rpartition("--")
    module = local.rsplit(".", 1)[0] if "." in local else local
    rel = module.replace(".", "/") + ".py"
    present = bool(folder is not None and not repo and (folder / rel).is_file())
    return {"reference": reference, "module_file": rel, "remote_repo": repo or None, "present": present}


def config_findings(doc: object, where: str, folder: Path | None) -> tuple[list[Finding], dict[str, Any]]:
    """``auto_map`` / ``custom_pipelines`` entries and unknown tokenizer/processor classes of one JSON config.

    ``folder`` is the config's folder on disk (None inside an archive): a module that is
    there is named, one that is not (or lives in another repo) is said to be unreviewable.
    """
    if not isinstance(doc, dict):
        return [], {}
    findings, refs = [], []
    for key in ("auto_map", "custom_pipelines"):
        entries = doc.get(key)
        if not isinstance(entries, dict):
            continue
        for name, value in list(entries.items())[:100]:
            for reference in _references(value)[:10]:
                ref = {"key": f"{key}.{name}", **_resolve(reference, folder)}
                refs.append(ref)
                if ref["remote_repo"]:
                    tail = f"which is code from another repo ({ref['remote_repo']}), fetched at load time " \
                           "and not part of this review"
                elif ref["present"]:
                    tail = f"which runs {ref['module_file']} (see its own finding)"
                else:
                    tail = f"but {ref['module_file']} is not in the candidate"
                findings.append(Finding(Severity.HIGH, AUTO_MAP, f"{where} {key} maps {name} to "
                                        f"{reference}, {tail}: {RUNS}"))
    unknown = []
    for key in CLASS_KEYS:
        value = doc.get(key)
        if isinstance(value, str) and value and not known_class(value):
            unknown.append({"key": key, "class": value})
            findings.append(Finding(Severity.HIGH, UNKNOWN_CLASS, f"{where} {key} is {value!r}, which the "
                                    f"installed transformers ({transformers_version()}) does not define: "
                                    f"a loader would look for it in the repo's own code; {RUNS}"))
    facts = {"references": refs, "unknown_classes": unknown} if refs or unknown else {}
    return findings, facts


@functools.lru_cache(maxsize=1)
def _transformers_dir() -> Path | None:
    import importlib.util

    # find_spec on a top-level package locates it without running its __init__
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=1)
def transformers_version() -> str:
    """The installed transformers' version, from its metadata ("not installed" if absent)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transformers")
    except PackageNotFoundError:
        return "not installed"


#: used when transformers is not installed: the classes most model repos name
FALLBACK_CLASSES = frozenset({
    "PreTrainedTokenizer", "PreTrainedTokenizerFast", "TokenizersBackend", "GPT2Tokenizer",
    "LlamaTokenizer", "BertTokenizer", "T5Tokenizer", "RobertaTokenizer", "GemmaTokenizer",
    "Qwen2Tokenizer", "CLIPTokenizer", "XLMRobertaTokenizer", "WhisperTokenizer", "CLIPProcessor",
    "CLIPImageProcessor", "ViTImageProcessor", "WhisperProcessor", "WhisperFeatureExtractor",
    "Wav2Vec2FeatureExtractor", "Wav2Vec2Processor", "AutoTokenizer", "AutoProcessor"})
_CLASS_RE = re.compile(r"^class\s+([A-Z]\w*)\s*[(:]", re.MULTILINE)
_NAME_RE = re.compile(r"[\"']([A-Z]\w*(?:Tokenizer|TokenizerFast|Processor|ImageProcessor|FeatureExtractor|"
                      r"VideoProcessor|Backend|ImageProcessorFast))[\"']")


@functools.lru_cache(maxsize=1)
def installed_classes() -> frozenset[str]:
    """Tokenizer / processor class names the installed transformers defines, read from its source text."""
    root = _transformers_dir()
    if root is None:
        return FALLBACK_CLASSES
    names: set[str] = set(FALLBACK_CLASSES)
    patterns = ("tokenization_*.py", "processing_*.py", "image_processing_*.py", "feature_extraction_*.py",
                "video_processing_*.py")
    files = [p for pattern in patterns for p in (*root.glob(pattern), *root.glob(f"models/*/{pattern}"))]
    for path in files:
        try:
            names.update(_CLASS_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    for path in root.glob("models/auto/*_auto.py"):
        try:
            names.update(_NAME_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    # transformers 5 resolves the old XxxFast names to the one tokenizer class
    names.update(f"{n}Fast" for n in list(names) if n.endswith("Tokenizer"))
    return frozenset(names)


def known_class(name: str) -> bool:
    """Does the installed transformers define this tokenizer / processor class?"""
    return name in installed_classes()


def custom_code_evidence(files: Sequence[FileReport],
                         blocks: Callable[[Severity], bool]) -> CustomCode | None:
    """The scan stage's ``custom_code`` evidence from its file reports, or None without custom code.

    ``files_to_review``: the Python files, plus configs whose code is not in the candidate
    or whose class is unknown; an approval's custom-code waiver must name each of them.
    ``status_without``: what the scan would say if custom code were not counted, so that
    the decision rules can tell "blocked only by custom code" from "blocked anyway".
    """
    listed: list[dict[str, Any]] = []
    review: set[str] = set()
    for report in files:
        mine = [f for f in report.findings if f.code in CODES]
        if not mine:
            continue
        facts: dict[str, Any] = {}
        for part in report.parts:
            facts.update(part.get("custom_code") or {})
        entry = {"path": report.path, "codes": sorted({f.code for f in mine}), **facts}
        listed.append(entry)
        if PYTHON in entry["codes"] or UNKNOWN_CLASS in entry["codes"] or any(
                not r.get("present") for r in facts.get("references", [])):
            review.add(report.path)
    if not listed:
        return None
    return CustomCode(tuple(MappingProxyType(entry) for entry in listed), tuple(sorted(review)),
                      _status_without(files, blocks), transformers_version())


def _status_without(files: Sequence[FileReport], blocks: Callable[[Severity], bool]) -> str:
    blocked = unread = warned = False
    for report in files:
        rest = [f for f in report.findings if f.code not in CODES]
        blocked = blocked or any(blocks(f.severity) for f in rest)
        unread = unread or report.verdict.value == "unscanned" or any(
            v.status == "error" for v in report.voices.values())
        warned = warned or bool(rest)
    return "failed" if blocked else "errored" if unread else "warned" if warned else "passed"
