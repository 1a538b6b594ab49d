"""The signature panel: who signed, whether curator trusts them and why, and every file's digest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from curator.core.evidence import EvidenceError, SignatureEvidence
from curator.core.evidence.signature import Attestation, SignedFile
from curator.core.text import shown, text
from curator.tui.format import short_digest
from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable

#: the signature as a whole
VERDICT: dict[str, tuple[str, str]] = {
    "verified": ("✔", "bold green"),
    "failed": ("✘", "bold red"),
    "unsigned": ("▲", "bold yellow"),
}
#: whether the verified signer is one curator holds this publisher to
TRUST: dict[str, tuple[str, str, str]] = {
    "expected": ("✔", "green", "a listed signer of this publisher"),
    "tofu-match": ("✔", "green", "the signer on record for this publisher"),
    "tofu-new": ("▲", "yellow", "first signer seen for this publisher: now on record"),
    "unknown": ("▲", "yellow", "not vouched for"),
    "mismatch": ("✘", "bold red", "NOT the signer this publisher is held to"),
}
#: one row of the digest comparison
STATE: dict[str, tuple[str, str]] = {
    "match": ("✔", "green"),
    "mismatch": ("✘", "bold red"),
    "missing": ("✘", "red"),
    "unsigned": ("▲", "yellow"),
    "ignored": ("–", "grey50"),
}
#: what each signer field is called on screen, in the order shown; other fields follow
SIGNER_FIELDS = {
    "kind": "kind", "identity": "identity", "issuer": "OIDC issuer", "subject": "subject",
    "all_identities": "all identities", "fingerprint": "fingerprint",
    "certificate_fingerprint": "certificate", "certificate_issued_by": "issued by",
    "issued_by": "issued by", "certificate_not_before": "not before", "not_before": "not before",
    "not_after": "not after", "chain": "chain", "anchor": "trust anchor",
    "anchor_fingerprint": "anchor fingerprint", "public_key": "public key",
}


def state_text(state: str) -> Text:
    """``✔ match`` in green … ``✘ mismatch`` in red, ``– ignored`` dimmed."""
    char, style = STATE.get(state, ("?", "magenta"))
    return Text(shown(f"{char} {state}"), style=style)


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _value(value: object) -> str:
    return shown(", ".join(map(str, value)) if isinstance(value, list) else value)


class SignaturePanel(EvidencePanel):
    """Verdict, signer, transparency log entry, trust decision and the per-file digest table."""

    def compose(self) -> ComposeResult:
        try:
            evidence = SignatureEvidence.of(self.result)
        except EvidenceError as exc:
            yield from self.unreadable(exc)
            return
        yield Static(self.headline(), classes="headline")
        if not self.result.evidence:
            yield Static(Text("No signature evidence was recorded: the stage did not get that far.",
                              style="bold magenta"), classes="alarm")
        else:
            yield Static(self.verdict(evidence), id="signature-verdict")
            if evidence.signer or evidence.claimed_signer:
                yield Label("Signer", classes="section")
                yield Static(self.signer(evidence.signer, evidence.claimed_signer), id="signer")
            if evidence.transparency:
                yield Label("Transparency log", classes="section")
                yield Static(self.transparency(evidence.transparency), id="transparency")
            yield Label("Trust", classes="section")
            yield Static(self.trust(evidence), id="trust")
            files = evidence.files
            yield Label("Signed digests vs " + (evidence.compared_with or "the files"), classes="section")
            if files:
                yield Static(self.tally(files), classes="summary")
                yield DigestTable(files, id="digests")
                yield Static("", id="digest-detail")
            else:
                yield Static(Text("nothing to compare: no signature was verified", style="dim"))
            yield Static(self.details(evidence), classes="dim", id="signature-details")
            attestations = evidence.attestations
            if attestations:
                usable = sum(1 for a in attestations if a.usable)
                yield Label(f"Provenance attestations ({len(attestations)}, {usable} usable as evidence)",
                            classes="section")
                yield Static(self.attestations(attestations), id="attestations")
        if self.result.findings:
            yield Label("Findings", classes="section")
            yield FindingsTable(self.result.findings)

    @staticmethod
    def verdict(evidence: SignatureEvidence) -> Text:
        status = evidence.status or "unsigned"
        char, style = VERDICT.get(status, ("?", "bold magenta"))
        line = Text(f"{char} signature {status}", style=style)
        mode = evidence.mode
        if mode and mode != "none":
            line.append(f" · {shown(mode)}")
        line.append(f" · {shown(evidence.signature_file or 'model.sig')}", style="dim")
        if evidence.error:
            line.append(f"\n{shown(evidence.error)}", style="red" if status == "failed" else "yellow")
        return line

    @staticmethod
    def signer(signer: Mapping[str, Any], claimed: Mapping[str, Any] | None) -> Table:
        grid = _grid()
        if not signer and claimed:
            grid.add_row(Text("claims", style="bold red"),
                         Text("the signature did not verify: what it claims is NOT proven", style="red"))
            signer = claimed
        keys = [*(k for k in SIGNER_FIELDS if k in signer), *(k for k in signer if k not in SIGNER_FIELDS)]
        for key in keys:
            if key == "all_identities" and signer[key] == [signer.get("identity")]:
                continue
            value = signer[key]
            if value in (None, "", []):
                continue
            grid.add_row(text(SIGNER_FIELDS.get(key, key)), Text(_value(value)))
        return grid

    @staticmethod
    def transparency(entry: Mapping[str, Any]) -> Table:
        grid = _grid()
        if "log_index" in entry:
            grid.add_row("log index", text(entry["log_index"]))
        when = entry.get("integrated_time_utc") or entry.get("integrated_time")
        if when:
            grid.add_row("integrated", text(when))
        for key in ("log_id", "entries"):
            if key in entry:
                grid.add_row(key.replace("_", " "), text(entry[key]))
        return grid

    @staticmethod
    def trust(evidence: SignatureEvidence) -> Table:
        trust = evidence.trust
        decision = trust.decision or "unknown"
        char, style, meaning = TRUST.get(decision, ("?", "magenta", ""))
        grid = _grid()
        grid.add_row("decision", Text.assemble((shown(f"{char} {decision}"), style), f" — {meaning}"))
        grid.add_row("why", text(trust.why))
        for anchor in trust.expected:
            grid.add_row("expected", text(", ".join(f"{k} {_value(v)}" for k, v in anchor.items() if v)))
        publisher = text(evidence.publisher)
        rule = evidence.publisher_rule
        publisher.append(f" · listed in publishers.yaml as {shown(rule.match)}" if rule
                         else " · not in publishers.yaml", style="dim")
        publisher.append(" · must sign" if evidence.required else " · signing optional", style="dim")
        if rule and rule.note:
            publisher.append(f"\n{shown(rule.note)}", style="italic")
        grid.add_row("publisher", publisher)
        return grid

    @staticmethod
    def tally(files: tuple[SignedFile, ...]) -> Text:
        counts = Counter(f.state for f in files)
        line = Text()
        for state in [*STATE, *(s for s in counts if s not in STATE)]:
            if counts.get(state):
                line.append(f"{counts[state]} ").append_text(state_text(state)).append("   ")
        return line

    @staticmethod
    def attestations(attestations: tuple[Attestation, ...]) -> Text:
        """Each shipped attestation: verified or not, by whom, what it says was built from where."""
        out = Text()
        for i, entry in enumerate(attestations):
            status = entry.status or "?"
            usable = entry.usable
            where = entry.file + (f":{entry.line}" if entry.line else "")
            out.append("\n" if i else "")
            out.append("✔ " if usable else "✘ ", style="green" if usable else "red")
            out.append(shown(where), style="bold").append(shown(f"  {entry.format} {status}"))
            if entry.trust:
                decision = str(entry.trust.get("decision"))
                out.append(f" · signer {shown(decision)}", style=TRUST.get(decision, ("", "", ""))[1])
            facts = entry.facts or {}
            source = facts.get("source") or {}
            if facts:  # an attestation's builder and source are whatever its author wrote
                built = (f"built by {facts.get('builder') or '?'} from {source.get('repo') or '?'}"
                         f"@{str(source.get('commit') or '?')[:12]}")
                out.append("\n   " + shown(built), style="dim")
            subjects = entry.subjects
            if subjects:
                states = Counter(str(s.get("state")) for s in subjects)
                tally = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
                out.append("\n   subjects: " + shown(tally), style="red" if states.get("mismatch") else "dim")
            if entry.error:
                out.append(f"\n   {shown(entry.error)}", style="red")
        return out

    @staticmethod
    def details(evidence: SignatureEvidence) -> Table:
        grid = _grid()
        if evidence.ignore_paths:
            grid.add_row("ignored", text(", ".join(evidence.ignore_paths)))
        serialization = evidence.serialization
        if serialization:
            grid.add_row("hashed as", text(f"{serialization.get('method', '?')} · "
                                           f"{serialization.get('hash_type', '?')}"))
        if evidence.model_name:
            grid.add_row("signed name", text(evidence.model_name))
        for key, value in evidence.verified_against.items():
            grid.add_row(text(f"verified with {key.replace('_', ' ')}"), text(value))
        return grid

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, DigestTable) and event.row_key.value is not None:
            self.query_one("#digest-detail", Static).update(table.detail(event.row_key.value))


class DigestTable(DataTable[Text | str]):
    """state, path, signed SHA-256, SHA-256 of the pinned bytes; problems first, in colour."""

    def __init__(self, files: tuple[SignedFile, ...], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.by_path: dict[str, SignedFile] = {f.path: f for f in files}

    def on_mount(self) -> None:
        for column in ("state", "path", "signed", "now"):
            self.add_column(column, key=column)
        order = {s: i for i, s in enumerate(("mismatch", "missing", "unsigned", "match", "ignored"))}
        for path, row in sorted(self.by_path.items(), key=lambda kv: (order.get(kv[1].state, -1), kv[0])):
            state = row.state
            style = STATE.get(state, ("", "magenta"))[1] if state in ("mismatch", "missing") else ""
            signed, now = row.signed, row.now
            self.add_row(state_text(state), text(path, style),
                         Text(short_digest(signed) if signed else "—", style=style),
                         Text(short_digest(now) if now else "—", style=style), key=path)

    def detail(self, path: str) -> Text:
        """Both digests in full, and what the state means for this file."""
        row = self.by_path.get(path) or SignedFile(path, "")
        state = row.state
        line = Text.assemble((shown(path), "bold"), "  ")
        line.append_text(state_text(state))
        signed, now = row.signed, row.now
        line.append(f"\nsigned: {shown(signed or '(not in the signature)')}")
        line.append(f"\nnow:    {shown(now or '(no such file)')}")
        meaning = {"mismatch": "the bytes changed after signing",
                   "missing": "the signature names this file but it is not here",
                   "unsigned": "present but neither signed nor in the signer's ignore paths",
                   "ignored": "left out of the signature on purpose (an ignore path)"}.get(state)
        if meaning:
            line.append(f"\n{meaning}", style=STATE.get(state, ("", ""))[1])
        return line
