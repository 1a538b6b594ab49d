"""The scan section of the policy, typed and checked: unknown keys are refused, not ignored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import Severity
from curator.core.policy import checklists_dir
from curator.stages.scan.rules import GlobalRules

KNOWN_SCANNERS = ("modelscan", "picklescan", "modelaudit")
_KEYS = {"block_severities", "allowed_formats", "scanners", "timeout_seconds", "modelaudit_max_file_bytes",
         "modelaudit_skip_state_dicts", "inert_formats",
         "scanner_memory_bytes", "safe_globals_lists",
         "max_unpacked_bytes", "max_member_bytes", "max_compression_ratio", "max_archive_members",
         "max_depth", "max_pickle_opcodes", "safe_globals", "dangerous_globals", "tool_severity",
         "scanner_commands", "ignore"}


@dataclass(frozen=True)
class ScanConfig:
    """Everything the scan stage takes from ``checklists/default.yaml``'s ``scan:`` section."""

    block_severities: frozenset[Severity] = frozenset({Severity.HIGH, Severity.CRITICAL})
    allowed_formats: frozenset[str] | None = None  # None: every format may be present
    scanners: tuple[str, ...] = KNOWN_SCANNERS
    timeout_seconds: float = 600.0
    modelaudit_max_file_bytes: int = 256 << 20
    modelaudit_skip_state_dicts: bool = True
    #: formats that cannot carry code and that curator recognises; any other unread content is unscanned
    inert_formats: frozenset[str] = frozenset({
        "text", "json", "empty", "sentencepiece", "tf-variables", "tf-fingerprint", "tfevents", "image",
        "audio", "video", "document", "parquet", "arrow", "msgpack", "ggml-legacy", "openvino-weights"})
    scanner_memory_bytes: int = 4 << 30
    max_unpacked_bytes: int = 4 << 30
    max_member_bytes: int = 2 << 30
    max_compression_ratio: float = 200.0
    max_archive_members: int = 100_000
    max_depth: int = 4
    max_pickle_opcodes: int = 50_000_000
    rules: GlobalRules = field(default_factory=GlobalRules)
    #: (tool, rule or rule/level) -> severity: re-grades a scanner's own verdict, with a reason in YAML
    tool_severity: dict[str, dict[str, Severity]] = field(default_factory=dict)
    scanner_commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset({".git", ".cache", "__pycache__"})

    def blocks(self, severity: Severity) -> bool:
        return severity in self.block_severities

    @classmethod
    def from_section(cls, data: dict[str, Any], directory: Path | None = None) -> ScanConfig:
        """Build from the YAML mapping; a typo or a wrong type is a usage error naming the key.

        ``safe_globals_lists`` name files (relative to the checklists folder) of one entry a line.
        """
        unknown = set(data) - _KEYS
        if unknown:
            raise UsageError(f"checklist section 'scan' has unknown keys: {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(_KEYS))}")
        base = cls()
        try:
            scanners = tuple(data.get("scanners", base.scanners))
            for name in scanners:
                if name not in KNOWN_SCANNERS:
                    raise ValueError(f"unknown scanner {name!r}")
            formats = data.get("allowed_formats", "any")
            return cls(
                block_severities=frozenset(Severity(s) for s in data.get("block_severities",
                                                                         ["high", "critical"])),
                allowed_formats=None if formats == "any" else frozenset(str(f) for f in formats),
                scanners=scanners,
                timeout_seconds=float(data.get("timeout_seconds", base.timeout_seconds)),
                modelaudit_max_file_bytes=int(data.get("modelaudit_max_file_bytes",
                                                       base.modelaudit_max_file_bytes)),
                modelaudit_skip_state_dicts=_flag(data.get("modelaudit_skip_state_dicts",
                                                           base.modelaudit_skip_state_dicts)),
                inert_formats=frozenset(str(f) for f in data.get("inert_formats",
                                                                 sorted(base.inert_formats))),
                scanner_memory_bytes=int(data.get("scanner_memory_bytes", base.scanner_memory_bytes)),
                max_unpacked_bytes=int(data.get("max_unpacked_bytes", base.max_unpacked_bytes)),
                max_member_bytes=int(data.get("max_member_bytes", base.max_member_bytes)),
                max_compression_ratio=float(data.get("max_compression_ratio", base.max_compression_ratio)),
                max_archive_members=int(data.get("max_archive_members", base.max_archive_members)),
                max_depth=int(data.get("max_depth", base.max_depth)),
                max_pickle_opcodes=int(data.get("max_pickle_opcodes", base.max_pickle_opcodes)),
                rules=GlobalRules.build(
                    [str(p) for p in data.get("safe_globals", [])]
                    + _listed(data.get("safe_globals_lists", []), directory or checklists_dir()),
                    [str(p) for p in data.get("dangerous_globals", [])]),
                tool_severity={str(tool): {str(rule): Severity(level) for rule, level in rules.items()}
                               for tool, rules in (data.get("tool_severity") or {}).items()},
                scanner_commands={str(k): tuple(str(a) for a in v)
                                  for k, v in (data.get("scanner_commands") or {}).items()},
                ignore=frozenset(str(p) for p in data.get("ignore", sorted(base.ignore))),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"checklist section 'scan' is malformed ({exc})",
                             "fix default.yaml; see the comments in the shipped checklist") from exc

    def regrade(self, tool: str, rule: str, level: str, severity: Severity) -> Severity:
        """A scanner finding's severity after the policy's per-rule overrides."""
        table = self.tool_severity.get(tool, {})
        return table.get(f"{rule}/{level}", table.get(rule, severity))


def _listed(names: list[str], directory: Path) -> list[str]:
    entries = []
    for name in names:
        path = directory / str(name)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"scan safe_globals_lists file {path} cannot be read ({exc.strerror})",
                             "restore it, or regenerate it with scripts/safe_globals.py") from exc
        entries += [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return entries


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value
