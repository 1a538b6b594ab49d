"""The scan panel: every file's verdict, each scanner's say about it, and where they disagree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static, Tree
from textual.widgets.tree import TreeNode

from curator.core.evidence import EvidenceError, ScanEvidence
from curator.core.evidence.scan import ScannedFile, ScannerRun, ScanPolicy, Voice
from curator.core.text import shown, text
from curator.tui.format import SEVERITY_STYLE, human_bytes, short_digest
from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable

#: a file's verdict: glyph and colour (unscanned blocks too: it can carry code nobody read)
VERDICT: dict[str, tuple[str, str]] = {
    "clean": ("✔", "green"),
    "blocked": ("✘", "bold red"),
    "unscanned": ("?", "bold magenta"),
}
#: what one reader said about one file
VOICE: dict[str, tuple[str, str]] = {
    "flagged": ("✘", "red"),
    "warned": ("▲", "yellow"),
    "clean": ("✔", "green"),
    "error": ("!", "magenta"),
    "not-given": ("–", "grey50"),
    "not-run": ("·", "grey50"),
}
DISAGREE = "bold yellow"
#: curator's own checks read every file; the external scanners follow in the policy's order
OWN = "curator"


def verdict_text(verdict: str) -> Text:
    """``✘ blocked`` in red, ``✔ clean`` in green, ``? unscanned`` in magenta."""
    char, style = VERDICT.get(verdict, ("?", "magenta"))
    return Text(f"{char} {verdict}", style=style)


def verdict_glyph(verdict: str) -> Text:
    """The verdict's glyph alone: ✔ green, ✘ red, ? magenta."""
    char, style = VERDICT.get(verdict, ("?", "magenta"))
    return Text(char, style=style)


def voice_text(status: str, with_word: bool = False) -> Text:
    char, style = VOICE.get(status, ("?", "magenta"))
    return Text(f"{char} {status}" if with_word else char, style=style)


class ScanPanel(EvidencePanel):
    """Counts and scanner runs; a files table with one column per scanner; a tree for one file."""

    def compose(self) -> ComposeResult:
        try:
            evidence = ScanEvidence.of(self.result)
        except EvidenceError as exc:
            yield from self.unreadable(exc)
            return
        yield Static(self.headline(), classes="headline")
        files = evidence.files
        if not files:
            yield Static(Text("No file verdicts were recorded: the scan did not get that far.",
                              style="bold magenta"), classes="alarm")
        else:
            yield Static(self.summary(evidence), classes="summary")
        for alarm in self.alarms(evidence):
            yield Static(alarm, classes="alarm")
        if evidence.scanners:
            yield Label("Scanners", classes="section")
            yield Static(self.scanners_table(evidence.scanners), id="scanners")
        if files:
            yield Label("Files — one column per scanner: ✘ flagged ▲ warned ✔ clean ! error – n/a",
                        classes="section")
            yield ScanFilesTable(files, self.scanner_names(evidence), id="scan-files")
            yield Tree[None](Text("(pick a file)"), id="scan-tree")
        if self.result.findings:
            yield Label("Findings", classes="section")
            yield FindingsTable(self.result.findings)

    @staticmethod
    def scanner_names(evidence: ScanEvidence) -> list[str]:
        """curator first, then every external scanner of the run or of any file's voices."""
        names = [OWN, *evidence.scanners]
        for entry in evidence.files:
            names += [n for n in entry.scanners if n not in names]
        return names

    def summary(self, evidence: ScanEvidence) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        counts = evidence.counts
        line = Text(f"{sum(counts.values())}: ")
        for i, verdict in enumerate(VERDICT):
            line.append(", " if i else "")
            line.append_text(Text(f"{counts.get(verdict, 0)} ")).append_text(verdict_text(verdict))
        grid.add_row("files", line)
        policy = evidence.policy
        if policy.recorded:
            grid.add_row("blocks at", text(", ".join(policy.block_severities)
                                           + f" · formats allowed: {_formats(policy)}"))
        took = f"{evidence.seconds:.1f} s"
        unpacked = evidence.unpacked_bytes
        grid.add_row("took", Text(took + (f" · unpacked {human_bytes(unpacked)}" if unpacked else "")))
        return grid

    @staticmethod
    def alarms(evidence: ScanEvidence) -> list[Text]:
        """Scanners that disagree about a file, and scanners whose run did not finish."""
        out = []
        for d in evidence.disagreements:
            line = Text("⚠ scanners disagree on ", style=DISAGREE)
            line.append(shown(d.file), style="bold")
            line.append(shown(f": flagged by {', '.join(d.flagged_by)}; "
                              f"clean by {', '.join(d.clean_by)}"), style=DISAGREE)
            out.append(line)
        for name, run in evidence.scanners.items():
            if not run.finished:
                out.append(text(f"! {name} {run.status}: its files count as unscanned",
                                "bold magenta"))
        return out

    @staticmethod
    def scanners_table(runs: Mapping[str, ScannerRun]) -> Table:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for column in ("scanner", "version", "run", "targets", "errors", "seconds", "exit", "last words"):
            table.add_column(column, no_wrap=column != "last words", overflow="fold")
        for name, run in runs.items():
            ok = run.finished
            tail = [line for line in run.stderr_tail if line.strip()]
            table.add_row(text(name), text(run.version or "?"),
                          text(run.status, "green" if ok else "bold magenta"),
                          text(run.targets),
                          text(run.errors, "magenta" if run.errors else ""),
                          Text(f"{run.seconds:.2f}"), text(run.exit_code),
                          text("" if ok else (tail[-1] if tail else ""), "dim"))
        return table

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, ScanFilesTable) and event.row_key.value is not None:
            entry = table.by_path[event.row_key.value]
            fill_tree(self.query_one("#scan-tree", Tree), entry, table.scanners)


def _formats(policy: ScanPolicy) -> str:
    return "any" if policy.allowed_formats is None else ", ".join(policy.allowed_formats)


class ScanFilesTable(DataTable[Text | str]):
    """Verdict glyph (⚠ if scanners disagree), path, size, one glyph per scanner; blocked and
    unscanned files first, so the cursor starts on the worst."""

    def __init__(self, files: tuple[ScannedFile, ...], scanners: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.by_path: dict[str, ScannedFile] = {f.path: f for f in files}
        self.scanners = scanners

    def on_mount(self) -> None:
        # narrow on purpose: the evidence area is ~80 cells wide in a 120-cell terminal
        self.add_column("", key="verdict")
        self.add_column("path", key="path")
        self.add_column("size", key="size")
        for name in self.scanners:
            self.add_column(name, key=name)
        order = {"blocked": 0, "unscanned": 1, "clean": 2}
        for path, entry in sorted(self.by_path.items(),
                                  key=lambda kv: (order.get(kv[1].verdict, 0), kv[0])):
            verdict = entry.verdict
            style = VERDICT.get(verdict, ("", "magenta"))[1] if verdict != "clean" else ""
            voices = entry.scanners
            mark = verdict_glyph(verdict)
            if entry.disagreement:
                mark.append("⚠", style=DISAGREE)
            self.add_row(
                mark, text(path, style), Text(human_bytes(entry.size), justify="right"),
                *[voice_text(voices[n].status if n in voices else "not-run") for n in self.scanners],
                key=path)


def fill_tree(tree: Tree[None], entry: ScannedFile, scanners: list[str]) -> None:
    """One file: why its verdict, then each scanner's status with its findings, then its contents."""
    path = entry.path
    root = Text.assemble((shown(path), "bold"), " — ")
    root.append_text(verdict_text(entry.verdict))
    root.append(shown(f" · {entry.format or '?'} · {human_bytes(entry.size)}"))
    if entry.sha256:
        root.append(shown(f" · sha256 {short_digest(entry.sha256)}"), style="dim")
    if entry.detail:
        root.append(shown(f" · {entry.detail}"), style="dim")
    tree.reset(root)
    tree.root.expand()
    disagreement = entry.disagreement
    if disagreement:
        tree.root.add_leaf(text(f"⚠ flagged by {', '.join(disagreement.flagged_by)}, "
                                f"clean by {', '.join(disagreement.clean_by)}", DISAGREE))
    reasons = entry.reasons
    if reasons and entry.verdict != "clean":
        why = tree.root.add(Text(f"why {entry.verdict} ({len(reasons)})", style="bold"), expand=False)
        for reason in reasons:
            why.add_leaf(text(reason))
    voices = entry.scanners
    for name in [n for n in scanners if n in voices] + [n for n in voices if n not in scanners]:
        _add_voice(tree.root, name, voices[name], path)
    parts = entry.parts
    if parts:
        inside = tree.root.add(Text(f"contents ({len(parts)} part(s))", style="bold"), expand=False)
        for part in parts:
            inside.add_leaf(_part_text(part))


def _add_voice(root: TreeNode[None], name: str, voice: Voice, path: str) -> None:
    status = voice.status
    findings = voice.findings
    label = Text.assemble((shown(name), "bold"), " ")
    version = next((f.tool_version for f in findings if f.tool_version), "")
    if version:
        label.append(shown(f"{version} "), style="dim")
    label.append_text(voice_text(status, with_word=True))
    if findings:
        label.append(f" · {len(findings)} finding(s)")
    if voice.note and not findings:
        label.append(shown(f" · {voice.note}"), style="dim")
    node = root.add(label, expand=status in ("flagged", "warned", "error"))
    if voice.error:
        node.add_leaf(text(f"error: {voice.error}", "magenta"))
    for finding in findings:
        message = finding.message.removeprefix(f"{path}: ")  # the file is the tree's root already
        style = SEVERITY_STYLE[finding.severity]
        # the message first: a tree line does not wrap, and the message is what the curator reads
        node.add_leaf(Text.assemble((shown(message), style),
                                    (shown(f"  {finding.severity.value} {finding.code}"), "dim")))
    if voice.findings_omitted:
        node.add_leaf(Text(f"… and {voice.findings_omitted} more", style="dim"))
    if voice.targets and status != "not-given":
        node.add_leaf(text(f"read: {', '.join(voice.targets)}", "dim"))


def _part_text(part: Mapping[str, Any]) -> Text:
    where = part.get("member") or "(the file itself)"
    line = Text.assemble((shown(where), "bold"), shown(f" {part.get('format', '?')}"))
    if "streams" in part:
        line.append(shown(f" · {part['streams']} stream(s), {part.get('opcodes', '?')} opcodes"))
    imports = part.get("globals") or []
    if imports:
        line.append(" · imports ")
        line.append(shown(", ".join(map(str, imports[:12])) + (" …" if len(imports) > 12 else "")),
                    style="yellow")
    return line
