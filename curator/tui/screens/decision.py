"""The decision screen: recommendation and why, blocking findings, waivers, rationale,
then sign (and push) in a thread worker with a progress bar.

Wiring: push ``DecisionScreen(session, review_id)`` from the review screen (e.g. a ``d``
binding); it dismisses with the ``DecisionOutcome`` (or None if the curator backed out).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, ProgressBar, Static, TextArea
from textual.worker import Worker, WorkerState

from curator.core.errors import CuratorError
from curator.core.text import text
from curator.decision.decide import Assessment, DecisionOutcome, DecisionRequest, assess, decide
from curator.decision.swap import SwapRequest, swap_target
from curator.review.session import Session
from curator.tui.format import RECOMMENDATION_STYLE, SEVERITY_STYLE
from curator.tui.screens.error import ErrorScreen


@dataclass
class PushProgress(Message):
    """Bytes pushed so far; a newer one replaces a queued older one."""

    done: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PushProgress)


@dataclass
class Decided(Message):
    """The decision is signed and recorded (and pushed, if it was the final approval)."""

    outcome: DecisionOutcome


class DecisionScreen(Screen[DecisionOutcome | None]):
    """Decide one review: approve (with waivers and conditions) or reject, with a rationale."""

    DEFAULT_CSS = """
    DecisionScreen #decision-body { height: 1fr; padding: 0 1; }
    DecisionScreen .section { margin-top: 1; text-style: bold; }
    DecisionScreen #rationale { height: 6; }
    DecisionScreen #buttons { height: auto; margin-top: 1; }
    DecisionScreen #buttons Button { margin-right: 2; }
    DecisionScreen #push-progress { display: none; }
    DecisionScreen.working #push-progress { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, session: Session, review_id: str) -> None:
        super().__init__()
        self.session = session
        self.review_id = review_id
        self.assessment: Assessment = assess(session, review_id)
        self.replaces = swap_target(session, self.assessment)
        self.outcome: DecisionOutcome | None = None
        self._pushed = 0
        self._lock = threading.Lock()  # upload threads report bytes concurrently

    def compose(self) -> ComposeResult:
        a = self.assessment
        yield Header()
        with VerticalScroll(id="decision-body"):
            yield Static(self._headline(), id="decision-head")
            yield Label("Why", classes="section")
            yield Static("\n".join(a.why) or "no stage has run", id="why")
            yield Label("Blocking approval", classes="section")
            yield Static(self._blocking(), id="blocking")
            for blocker in a.blockers:
                yield Input(placeholder=f"reason to waive {blocker.stage} (empty: not waived)",
                            id=f"waive-{blocker.stage}")
            if a.blockers:
                default = dt.date.today() + dt.timedelta(days=a.rules.waiver_days)
                yield Input(placeholder=f"waivers expire on (YYYY-MM-DD, default {default})",
                            id="waive-until")
            if self.replaces is not None:  # a swap: change control asks why, and how to go back
                yield Label(text(f"Replaces {self.replaces.ref}: why, and how to go back"), classes="section")
                yield Input(placeholder="why replace it (signed in)", id="justification")
                yield Input(placeholder=f"how to go back, e.g. curator rollback {self.replaces.name}",
                            id="rollback-plan")
            yield Label("Conditions (optional, one line)", classes="section")
            yield Input(placeholder="e.g. only for internal evaluation", id="condition")
            yield Label("Rationale (signed into the decision)", classes="section")
            yield TextArea(id="rationale")
            with Horizontal(id="buttons"):
                yield Button("Approve, sign & push", id="approve", variant="success",
                             disabled=a.review.state != "open")
                yield Button("Reject & sign", id="reject", variant="error",
                             disabled=a.review.state != "open")
            total = a.manifest.total_size if a.manifest else None
            yield ProgressBar(total=total or None, id="push-progress")
            yield Static("", id="decision-status")
        yield Footer()

    def _headline(self) -> Text:
        a = self.assessment
        text = Text.assemble((f"{a.review.candidate.label}", "bold"), f"  review {a.review.id}  ",
                             ("recommendation: ", "dim"),
                             (a.recommendation, RECOMMENDATION_STYLE.get(a.recommendation, "")))
        if a.review.state != "open":
            text.append("  (already decided)", style="bold")
        needed = a.rules.approvals_required
        if needed > 1:
            text.append(f"  approvals {len(a.approvals)}/{needed}")
        return text

    def _blocking(self) -> Text:
        text = Text()
        if not self.assessment.blockers:
            return Text("nothing: approval needs no waiver", style="green")
        for blocker in self.assessment.blockers:
            text.append(f"{blocker.stage} {blocker.status}\n", style="bold red")
            for finding in sorted(blocker.findings, key=lambda f: -f.severity.rank)[:5]:
                text.append(f"  {finding.severity.value} ", style=SEVERITY_STYLE[finding.severity])
                text.append(f"{finding.message}\n")
        return text

    def request(self, approve: bool) -> DecisionRequest:
        """The decision as filled in on screen (validated by the service, not here)."""
        waivers = {}
        for blocker in self.assessment.blockers:
            reason = self.query_one(f"#waive-{blocker.stage}", Input).value.strip()
            if reason and approve:
                waivers[blocker.stage] = reason
        until = None
        if self.assessment.blockers:
            raw = self.query_one("#waive-until", Input).value.strip()
            if raw:
                try:
                    until = dt.date.fromisoformat(raw)
                except ValueError:
                    until = dt.date.min  # the service refuses it with a clear message
        condition = self.query_one("#condition", Input).value.strip()
        swap = SwapRequest()
        if self.replaces is not None and approve:
            swap = SwapRequest(None, self.query_one("#justification", Input).value,
                               self.query_one("#rollback-plan", Input).value)
        return DecisionRequest(self.review_id, approve, self.query_one("#rationale", TextArea).text,
                               waivers, until, (condition,) if condition and approve else (), swap)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("approve", "reject"):
            self.sign(self.request(event.button.id == "approve"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="decision")
    def sign(self, request: DecisionRequest) -> None:
        """Load the key, sign, record, and push: blocking work, off the UI thread."""
        from curator.attest.keys import FileSigner
        from curator.registry import open_registry

        self.app.call_from_thread(self._working, True)
        try:
            signer = FileSigner(self.session.workspace.keys_dir)
            # a rejection is a signed state change too (a later rejection wins over an approval)
            registry = open_registry(self.session.workspace.registry_dir, self.session.policy)
            outcome = decide(self.session, request, signer, registry, self._advance)
        finally:
            self.app.call_from_thread(self._working, False)
        self.post_message(Decided(outcome))

    def _advance(self, n: int) -> None:
        with self._lock:
            self._pushed += n
            done = self._pushed
        self.post_message(PushProgress(done))

    def _working(self, busy: bool) -> None:
        self.set_class(busy, "working")
        for button in self.query(Button):
            button.disabled = busy or self.assessment.review.state != "open"
        self.query_one("#decision-status", Static).update("signing and pushing…" if busy else "")

    def on_push_progress(self, message: PushProgress) -> None:
        self.query_one("#push-progress", ProgressBar).update(progress=message.done)

    def on_decided(self, message: Decided) -> None:
        self.outcome = message.outcome
        self.assessment = assess(self.session, self.review_id)
        self.query_one("#decision-head", Static).update(self._headline())
        for button in self.query(Button):
            button.disabled = self.assessment.review.state != "open"
        where = f", pushed {message.outcome.ref}" if message.outcome.ref else ""
        self.query_one("#decision-status", Static).update(Text(
            f"{message.outcome.outcome} (decision {message.outcome.decision_id}){where}", style="bold"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "decision":
            error = event.worker.error
            text = error.diagnostics() if isinstance(error, CuratorError) else f"decision crashed: {error!r}"
            recorded = "retry with 'curator push" in text
            self.app.push_screen(ErrorScreen(text, "Decision recorded, push failed" if recorded
                                             else "The decision was not recorded"))

    def action_back(self) -> None:
        self.dismiss(self.outcome)
