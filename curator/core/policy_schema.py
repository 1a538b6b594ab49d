"""The shape of ``checklists/default.yaml``: one strict model per section.

A policy typo must never weaken a gate: ``block_on: failed`` (a string, not a list) would
otherwise block on nothing, ``separation_of_duties: "false"`` would read as true and
``safe_globals: sklearn.*`` would allow everything. So every type is strict (no string where a
list is expected, no ``"false"`` for a bool), every mapping refuses unknown keys, and limits
cannot be negative. The stages still read their sections as plain mappings; this is the gate.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


#: the stages a policy may name (kept here, not imported: core sits below the stages)
StageName = Literal["fetch", "scan", "signature", "card", "eval"]
#: what a waiver or ``unwaivable`` may name: a stage, or the custom-code blocker
Waivable = Literal["fetch", "scan", "signature", "card", "eval", "custom-code"]
StatusName = Literal["passed", "warned", "failed", "errored", "skipped"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]
ScannerName = Literal["modelscan", "picklescan", "modelaudit"]
CheckName = Literal["verify", "rescan", "waiver", "max-age", "base-model", "upstream", "findings", "eval",
                    "lookalike"]
CardField = Literal["publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage"]

Count = Annotated[int, Field(ge=0)]
AtLeastOne = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]
Names = list[str]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FetchSection(Section):
    max_file_bytes: Count = 64 << 30
    max_total_bytes: Count = 256 << 30
    parallel_files: AtLeastOne = 4
    retries: Count = 4
    timeout_seconds: Seconds = 30
    file_timeout_seconds: Seconds = 3600
    stage_timeout_seconds: Seconds = 6 * 3600
    local_ignore: Names = []


class ScanSection(Section):
    block_severities: list[SeverityName] = ["high", "critical"]
    allowed_formats: Literal["any"] | Names = "any"
    scanners: list[ScannerName] = ["modelscan", "picklescan", "modelaudit"]
    timeout_seconds: Seconds = 600
    modelaudit_max_file_bytes: Count = 256 << 20
    modelaudit_skip_state_dicts: bool = True
    scanner_memory_bytes: Count = 4 << 30
    inert_formats: Names = []
    max_unpacked_bytes: Count = 4 << 30
    max_member_bytes: Count = 2 << 30
    max_compression_ratio: Annotated[float, Field(gt=0)] = 200
    max_archive_members: Count = 100_000
    max_depth: Count = 4
    max_pickle_opcodes: Count = 50_000_000
    ignore: Names = []
    safe_globals: Names = []
    safe_globals_lists: Names = []
    dangerous_globals: Names = []
    tool_severity: dict[str, dict[str, SeverityName]] = {}
    scanner_commands: dict[str, Names] = {}


class SignatureSection(Section):
    file: str = "model.sig"
    trust_config: str = "sigstore-trust-config.json"
    require_unlisted: bool = False
    trust_on_first_use: bool = True
    tofu_unsigned_after_first: Literal["fail", "warn"] = "fail"
    publisher_key_files: Names = ["*.pub", "*.pub.pem", "public_key.pem", "public-key.pem"]
    unsigned_files: Literal["fail", "warn"] = "fail"
    ignore_paths: Names = []
    card_files: Names = ["README.md"]
    weight_suffixes: Names = ["safetensors", "bin", "gguf", "pt", "pth", "ckpt", "onnx", "h5", "keras", "pb",
                              "tflite", "msgpack", "npz", "npy", "pkl", "pickle", "joblib", "nemo",
                              "mlmodel", "llamafile", "ggml", "mar"]


class Bar(Section):
    present: Count = 0
    verified: Count = 0


class Lookalike(Section):
    protected: Names = []
    max_distance: Count = 2
    short_name: Count = 5


class CardSection(Section):
    max_card_bytes: Count = 1 << 20
    passed: Bar = Bar(present=3)
    warned: Bar = Bar(present=1)
    required: list[CardField] = []
    fail_at: SeverityName = "high"
    warn_at: SeverityName = "medium"
    license: dict[str, SeverityName] = {}
    lookalike: Lookalike = Lookalike()


class Backend(Section):
    kind: Literal["hf", "local-completions", "vllm"] = "hf"
    base_url: str | None = None
    model: str | None = None
    extra_args: dict[str, Any] = {}


class Claims(Section):
    fail_sigma: Annotated[float, Field(ge=0)] = 3
    warn_sigma: Annotated[float, Field(ge=0)] = 2
    min_stderr: Annotated[float, Field(ge=0)] = 0.01


class EvalSection(Section):
    tasks: dict[str, Names] = {}
    check_claims: bool = True
    claims: Claims = Claims()
    floors: dict[str, dict[str, float]] = {}
    backend: Backend = Backend()
    sandbox: Literal["bwrap", "none"] = "bwrap"
    dtype: str = "float32"
    device: str = "cpu"
    batch_size: AtLeastOne | str = 8
    limit: Annotated[float, Field(gt=0)] | None = None
    bootstrap_iters: Count = 1000
    seeds: dict[str, int] = {}
    apply_chat_template: bool = False
    timeout_seconds: Seconds = 1800
    max_memory_mb: Annotated[float, Field(gt=0)] | None = None
    max_disk_mb: Annotated[float, Field(gt=0)] = 8192
    weights_formats: list[Literal["safetensors", "bin"]] = ["safetensors"]
    run_after_scan: list[StatusName] = ["passed"]
    datasets_dir: str | None = None
    datasets_cache: str | None = None


class DecisionSection(Section):
    block_on: list[StatusName] = ["failed", "errored"]
    missing_blocks: bool = True
    unwaivable: list[Waivable] = ["fetch"]
    waiver_days: AtLeastOne = 90
    max_waiver_days: AtLeastOne = 365
    approvals_required: AtLeastOne = 1
    #: one curator alone never waives a critical finding
    critical_waiver_approvals: Annotated[int, Field(ge=2)] = 2
    separation_of_duties: bool = True
    swap_requires: list[Literal["justification", "rollback_plan"]] = ["justification", "rollback_plan"]
    production_tag: str = "prod"


class RegistrySection(Section):
    url: str = ""
    namespace: str = ""
    retries: Count = 4
    timeout_seconds: Seconds = 60
    parallel_blobs: AtLeastOne = 4
    staging: bool | Literal["auto"] = "auto"


class StateSection(Section):
    timestamp_expiry_days: AtLeastOne = 7
    targets_expiry_days: AtLeastOne = 365
    root_expiry_days: AtLeastOne = 365


class LedgerSection(Section):
    url: str = ""


class QuarterlySection(Section):
    max_age_days: AtLeastOne = 365
    waiver_warn_days: Count = 30
    rescan: bool = True
    check_upstream: bool = True
    upstream_timeout_seconds: Seconds = 10
    retired_base_models: Names = []
    fail_on: list[CheckName] = ["verify", "rescan", "waiver", "max-age", "base-model"]


class PolicyDocument(Section):
    """The whole of ``default.yaml``; an empty section (``scan:``) means its defaults."""

    version: str | int | float = "unversioned"
    stages: list[StageName] = ["fetch"]
    fetch: FetchSection | None = None
    scan: ScanSection | None = None
    signature: SignatureSection | None = None
    card: CardSection | None = None
    eval: EvalSection | None = None
    decision: DecisionSection | None = None
    registry: RegistrySection | None = None
    #: registries one inventory and AI-BOM span (URLs, ``workspace``, ``oci:DIR``); empty = ``registry``
    registries: list[str] = []
    ledger: LedgerSection | None = None
    quarterly: QuarterlySection | None = None
    state: StateSection | None = None


def problems(data: object, file: str = "default.yaml") -> list[str]:
    """Every way ``data`` (the parsed YAML) breaks the schema, one line each; [] when sound."""
    if not isinstance(data, dict):
        return [f"{file}: must be a mapping of sections, not {_kind(data)}"]
    try:
        PolicyDocument.model_validate(data)
    except ValidationError as exc:
        return [_line(file, error) for error in exc.errors()]
    return []


def _line(file: str, error: ErrorDetails) -> str:
    loc = tuple(f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"] if not _is_union_tag(p))
    key = ".".join(loc).replace(".[", "[")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        known = _fields_at(loc[:-1])
        near = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"did you mean '{near[0]}'?" if near else f"known keys: {', '.join(known)}"
        return f"{file}: {key} is not a known key; {hint}"
    return f"{file}: {key} {_expected(error)}, got {_kind(value)} {_short(value)}"


def _expected(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "list_type":
        return "must be a list in brackets, e.g. [a, b]"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false (unquoted)"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than"):
        op = ">=" if kind == "greater_than_equal" else ">"
        return f"must be a number {op} {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind == "string_type":
        return "must be a string"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a mapping"
    return f"is invalid ({error['msg']})"


def _fields_at(loc: tuple[str, ...]) -> list[str]:
    """The keys allowed at ``loc`` (a path of section / sub-mapping names)."""
    model: type[BaseModel] = PolicyDocument
    for part in loc:
        field = model.model_fields.get(part)
        inner = _model_of(field.annotation) if field else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_of(annotation: object) -> type[BaseModel] | None:
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_union_tag(part: object) -> bool:
    """pydantic names the union member it tried (``int``, ``list[...]``, ``literal[...]``) in loc."""
    text = str(part)
    return ("[" in text and text.split("[")[0] in {"list", "literal", "dict", "function-after"}) or text in {
        "int", "str", "float", "bool", "constrained-int", "constrained-float", "none"} or text.endswith(
        "Section") or text in {"Bar", "Lookalike", "Backend", "Claims"}


def _kind(value: object) -> str:
    return {bool: "a bool", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "nothing"}.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
