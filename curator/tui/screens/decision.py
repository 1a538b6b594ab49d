"""The decision screen: recommendation and why, blocking findings, waivers, rationale,
then sign (and push) in a thread worker with a progress bar. It dismisses with the
``DecisionOutcome`` (or None if the curator backed out).
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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, ProgressBar, Select, Static, TextArea
from textual.worker import Worker

from curator.core.events import DecisionMade, Pushed
from curator.core.text import text
from curator.decision.decide import Assessment, DecisionOutcome, DecisionRequest, assess, decide
from curator.decision.history import ApprovedModel
from curator.decision.swap import SwapRequest, standing_swap, swap_choices, swap_target
from curator.review.session import Session
from curator.review.staleness import Stale, stale_stages
from curator.tui.deploy import GateResult
from curator.tui.format import RECOMMENDATION_STYLE, SEVERITY_STYLE
from curator.tui.screens.error import WorkerErrors


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
    #: the review assessed again, now that the ledger holds the decision
    assessment: Assessment
    #: the model of another name whose production this approval took (a swap across names), if any
    standing: ApprovedModel | None = None


@dataclass(frozen=True)
class DecisionBasis:
    """What the decision screen shows of a review: ledger reads, so a worker builds it."""

    assessment: Assessment
    #: the inventory model an approval would replace (a swap), if any
    replaces: ApprovedModel | None
    stale: list[Stale]
    #: a swap across names this (decided) review made that still stands
    standing: ApprovedModel | None = None
    #: the production models of other names an approval could replace (a swap across names)
    choices: tuple[ApprovedModel, ...] = ()

    @classmethod
    def read(cls, session: Session, review_id: str) -> DecisionBasis:
        assessment = assess(session, review_id)
        return cls(assessment, swap_target(session, assessment),
                   stale_stages(assessment.results, session.policy.directory, session.ledger, review_id),
                   standing_swap(session.ledger, review_id), tuple(swap_choices(session, assessment)))


class DecisionScreen(WorkerErrors, Screen[DecisionOutcome | None]):
    """Decide one review: approve (with waivers and conditions) or reject, with a rationale."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]
    ERROR_TITLES: ClassVar[dict[str, str]] = {"state": "Cannot read the ledger",
                                               "forget": "The stale results were not forgotten"}

    def __init__(self, session: Session, basis: DecisionBasis) -> None:
        super().__init__()
        self.session = session
        self.assessment = basis.assessment
        self.review_id = basis.assessment.review.id
        #: a swap across names this (decided) review made that still stands: it can be rolled back here
        self.standing = basis.standing
        self.replaces = basis.replaces or basis.standing
        self.choices = basis.choices
        #: the production model of another name the curator picked for this approval to replace
        self.picked: ApprovedModel | None = None
        self.stale = basis.stale
        #: stages the curator asked to run again (the review screen runs them once this closes)
        self.rerun: list[str] = []
        self.outcome: DecisionOutcome | None = None
        self.gate_result: GateResult | None = None
        self.gate_started = False
        self._pushed = 0
        self._lock = threading.Lock()  # upload threads report bytes concurrently

    def compose(self) -> ComposeResult:
        a = self.assessment
        yield Header()
        with VerticalScroll(id="decision-body"):
            yield Static(self._headline(), id="decision-head")
            yield Label("Why", classes="section")
            yield Static("\n".join(a.why) or "no stage has run", id="why")
            if self.stale and a.review.state == "open":
                yield Label("Stale evidence: the world moved since these stages ran",
                            classes="section stale")
                yield Static(text("\n".join(f"{s.stage}: {s.why}" for s in self.stale)), id="stale")
                yield Button(f"Re-run {', '.join(s.stage for s in self.stale)}", id="rerun-stale",
                             variant="warning")
            yield Label("Blocking approval", classes="section")
            yield Static(self._blocking(), id="blocking")
            for blocker in a.blockers:
                yield Input(placeholder=f"reason to waive {blocker.stage} (empty: not waived)",
                            id=f"waive-{blocker.stage}")
            if a.blockers:
                default = dt.date.today() + dt.timedelta(days=a.rules.waiver_days)
                yield Input(placeholder=f"waivers expire on (YYYY-MM-DD, default {default})",
                            id="waive-until")
            if self.choices:
                yield Label("Replaces in production (a model of another name; optional)", classes="section")
                same = f"{self.replaces.ref} (same name)" if self.replaces else "nothing: a model of its own"
                options = [(text(f"{m.name}  now {m.ref}, review {m.review_id}"), m) for m in self.choices]
                yield Select(options, prompt=f"replaces {same}", id="replaces")
            if self.replaces is not None or self.choices:  # a swap: why, and how to go back
                with Vertical(id="swap-fields"):
                    yield Label(self._swap_title(), id="swap-title", classes="section")
                    yield Input(placeholder="why replace it (signed in)", id="justification")
                    yield Input(placeholder=self._plan_hint(), id="rollback-plan")
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
            yield Button("Retry push", id="retry-push", variant="warning")
            with VerticalScroll(id="after"):
                yield Label("Deploy gate", classes="section")
                yield Static("", id="gate")
                with VerticalScroll(id="rollback-box"):
                    yield Label("Roll back production", classes="section")
                    yield Input(placeholder="why production goes back (signed in)", id="rollback-rationale")
                    yield Button("Roll back", id="rollback", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.set_class(self.replaces is not None, "swap")
        self.read_state()

    def _swap_target(self) -> ApprovedModel | None:
        return self.picked or self.replaces

    def _swap_title(self) -> Text:
        target = self._swap_target()
        return text(f"Replaces {target.ref}: why, and how to go back" if target else "Replaces nothing")

    def _plan_hint(self) -> str:
        target = self._swap_target()
        return f"how to go back, e.g. curator rollback {target.name if target else 'NAME'}"

    def on_select_changed(self, event: Select.Changed) -> None:
        """The curator picked (or cleared) the production model of another name this approval replaces."""
        if event.select.id != "replaces":
            return
        self.picked = event.value if isinstance(event.value, ApprovedModel) else None
        self.set_class(self._swap_target() is not None, "swap")
        self.query_one("#swap-title", Label).update(self._swap_title())
        self.query_one("#rollback-plan", Input).placeholder = self._plan_hint()

    @work(thread=True, exclusive=True, exit_on_error=False, group="state")
    def read_state(self) -> None:
        """Approved, pushed or not, as the ledger says: what comes after the decision."""
        ledger = self.session.ledger
        decisions = ledger.read(DecisionMade, self.review_id)
        approved = bool(decisions) and decisions[-1].event.final == "approved"
        pushed = ledger.read(Pushed, self.review_id)
        pushed_ref = pushed[-1].event.ref if pushed else None
        self.app.call_from_thread(self._show_state, approved, pushed_ref)

    def _show_state(self, approved: bool, pushed_ref: str | None) -> None:
        """The gate, the retry or the rollback, whichever applies now."""
        if not self.is_attached:  # the curator went back while the ledger was read
            return
        self.set_class(approved, "approved")
        self.set_class(approved and pushed_ref is None, "unpushed")
        if approved and pushed_ref is not None and self.standing is not None:
            self.add_class("swapped")
        if approved and pushed_ref is not None and not self.gate_started:
            self.gate_started = True
            self.check_gate(pushed_ref)

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
        if self._swap_target() is not None and approve:
            # the picked model by its digest: exactly the one on screen, even if production moves meanwhile
            named = f"{self.picked.name}@{self.picked.digest}" if self.picked else None
            swap = SwapRequest(named, self.query_one("#justification", Input).value,
                               self.query_one("#rollback-plan", Input).value)
        return DecisionRequest(self.review_id, approve, self.query_one("#rationale", TextArea).text,
                               waivers, until, (condition,) if condition and approve else (), swap)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("approve", "reject"):
            self.start(self.request(event.button.id == "approve"))
        elif event.button.id == "retry-push":
            self.retry_push()
        elif event.button.id == "rerun-stale":
            self.forget_stale([s.stage for s in self.stale])
        elif event.button.id == "rollback":
            self.roll_back(self.query_one("#rollback-rationale", Input).value)

    def start(self, request: DecisionRequest) -> None:
        """Sign the decision; without a curator key, first the form that creates one."""
        from curator.attest.keys import current_identity

        keys_dir = self.session.workspace.keys_dir
        if current_identity(keys_dir) is not None:
            self.sign(request)
            return
        from curator.tui.screens.key_form import KeyFormScreen

        def after(identity: object) -> None:
            if identity is None:
                self.notify("No key, no signature: the decision was not recorded.", severity="warning")
                return
            self.sign(request)

        self.app.push_screen(KeyFormScreen(keys_dir, getattr(self.app, "after_key_created", None)), after)

    @work(thread=True, exclusive=True, exit_on_error=False, group="forget")
    def forget_stale(self, stages: list[str]) -> None:
        """Forget the stale results (the ledger records it), so the review screen's run does them again."""
        for stage in stages:
            self.session.ledger.discard_result(self.review_id, stage)
        self.app.call_from_thread(self._rerun, stages)

    def _rerun(self, stages: list[str]) -> None:
        self.rerun = stages
        self.dismiss(None)

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
            assessment = assess(self.session, self.review_id)
            standing = standing_swap(self.session.ledger, self.review_id)
        except BaseException:
            self.app.call_from_thread(self._working, False)
            raise
        # the buttons and the status change once, with the outcome (on_decided): never idle first
        self.post_message(Decided(outcome, assessment, standing))

    def _advance(self, n: int) -> None:
        with self._lock:
            self._pushed += n
            done = self._pushed
        self.post_message(PushProgress(done))

    def _working(self, busy: bool) -> None:
        self.set_class(busy, "working")
        for button in self.query("#approve, #reject").results(Button):
            button.disabled = busy or self.assessment.review.state != "open"
        for picker in self.query("#replaces").results(Select):
            picker.disabled = busy or self.assessment.review.state != "open"
        self.query_one("#retry-push", Button).disabled = busy
        self.query_one("#decision-status", Static).update("signing and pushing…" if busy else "")

    def on_push_progress(self, message: PushProgress) -> None:
        self.query_one("#push-progress", ProgressBar).update(progress=message.done)

    def on_decided(self, message: Decided) -> None:
        self._working(False)
        self.outcome = message.outcome
        self.assessment = message.assessment
        self.query_one("#decision-head", Static).update(self._headline())
        for button in self.query("#approve, #reject").results(Button):
            button.disabled = self.assessment.review.state != "open"
        for picker in self.query("#replaces").results(Select):
            picker.disabled = self.assessment.review.state != "open"
        if message.standing is not None:  # a swap across names: the rollback box hands production back to it
            self.standing = self.replaces = message.standing
        where = f", pushed {message.outcome.ref}" if message.outcome.ref else ""
        status = Text(f"{message.outcome.outcome} (decision {message.outcome.decision_id}){where}",
                      style="bold")
        if message.outcome.proposal:  # under a rule of two the signed state waits for a co-signature
            status.append(f"\nthe registry's signed state waits for another curator: curator state sign "
                          f"{message.outcome.proposal} (until then the deploy gate admits what it admitted)",
                          style="yellow")
        self.query_one("#decision-status", Static).update(status)
        self.set_class(self.replaces is not None and message.outcome.ref is not None, "swapped")
        self.read_state()

    # -- after an approval: the deploy gate, a push retried, a rollback ---------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="gate")
    def check_gate(self, pushed_ref: str) -> None:
        """Run what a deploy pipeline runs, ``curator verify NAME:prod``, and show its verdict."""
        from curator.decision.production import production_tag
        from curator.tui.deploy import production_ref, run_verify

        ref = production_ref(pushed_ref, production_tag(self.session.policy))
        self.app.call_from_thread(self._gate, Text(f"a deploy pipeline runs: curator verify {ref} …",
                                                   style="italic"))
        result = run_verify(self.session.workspace.home, self.session.policy.directory, ref)
        verdict = Text.assemble(("a deploy pipeline runs: ", "dim"), (result.command, "bold"), "\n")
        verdict.append(f"{'✔ passes' if result.passed else '✘ refused'} (exit {result.code})\n",
                       style="bold green" if result.passed else "bold red")
        verdict.append_text(text(result.output, keep_newlines=True))
        self.app.call_from_thread(self._gate, verdict, result)

    def _gate(self, verdict: Text, result: GateResult | None = None) -> None:
        """Show the gate's line; its result is known to readers only once it is on screen."""
        self.query_one("#gate", Static).update(verdict)
        if result is not None:
            self.gate_result = result

    @work(thread=True, exclusive=True, exit_on_error=False, group="decision")
    def retry_push(self) -> None:
        """Push an approved review whose push failed (the decision itself stands)."""
        from curator.attest.keys import FileSigner
        from curator.decision.decide import push_review
        from curator.registry import open_registry

        self.app.call_from_thread(self._working, True)
        try:
            registry = open_registry(self.session.workspace.registry_dir, self.session.policy)
            pushed = push_review(self.session, self.review_id, registry, self._advance,
                                 signer=FileSigner(self.session.workspace.keys_dir))
        except BaseException:
            self.app.call_from_thread(self._working, False)
            raise
        self.app.call_from_thread(self._pushed_now, pushed.ref)

    def _pushed_now(self, ref: str) -> None:
        self._working(False)
        self.query_one("#decision-status", Static).update(text(f"pushed {ref}", "bold"))
        self.remove_class("unpushed")  # known now; the ledger read below confirms and starts the gate
        self.read_state()

    @work(thread=True, exclusive=True, exit_on_error=False, group="decision")
    def roll_back(self, rationale: str) -> None:
        """Put the model this swap replaced back into production: a signed decision too."""
        from curator.attest.keys import FileSigner
        from curator.changes.rollback import rollback
        from curator.decision.signed_state import trusted_state
        from curator.registry import open_registry

        assert self.replaces is not None
        ws = self.session.workspace
        registry = open_registry(ws.registry_dir, self.session.policy)
        trusted = trusted_state(registry, self.session.policy, ws.home / "state")
        done = rollback(self.session, registry, self.replaces.name, FileSigner(ws.keys_dir),
                        trusted, None, rationale)
        self.app.call_from_thread(self._rolled_back, done.ref, done.to.ref, done.decision_id)

    def _rolled_back(self, ref: str, to: str, decision_id: str) -> None:
        self.query_one("#decision-status", Static).update(
            text(f"rolled back {ref} to {to} (decision {decision_id})", "bold"))
        self.query_one("#rollback", Button).disabled = True
        self.check_gate(ref)

    async def worker_failed(self, worker: Worker[object], message: str) -> str | None:
        if worker.group not in ("decision", "gate"):
            return await super().worker_failed(worker, message)
        self.read_state()
        recorded = "retry with 'curator push" in message
        return "Decision recorded, push failed" if recorded else "The decision was not recorded"

    def action_back(self) -> None:
        self.dismiss(self.outcome)
