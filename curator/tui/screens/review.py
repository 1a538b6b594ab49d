"""The review screen: the stage checklist on the left, the selected stage's evidence on the right."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.worker import Worker

from curator.core.errors import CuratorError
from curator.core.models import Candidate, Review, StageResult
from curator.core.progress import Cancelled
from curator.core.text import shown, text
from curator.decision.history import ApprovedModel
from curator.review.session import Session
from curator.tui.format import RECOMMENDATION_STYLE
from curator.tui.messages import ReviewOpened, RunEnded, StageFinished, StageProgress, StageStarted
from curator.tui.observer import MessageObserver
from curator.tui.screens.code import code_entries, open_code
from curator.tui.screens.diff import inventory_twin
from curator.tui.screens.error import WorkerErrors
from curator.tui.widgets.checklist import StageChecklist
from curator.tui.widgets.evidence import panel_for
from curator.tui.widgets.stage_progress import StageProgressBar

if TYPE_CHECKING:
    from curator.tui.screens.decision import DecisionBasis


def stage_title(name: str) -> str:
    """The stage's own title, read from its class without running anything."""
    from curator.stages import STAGES

    module, _, cls = STAGES.get(name, ":").partition(":")
    try:
        return str(getattr(importlib.import_module(module), cls).title)
    except (ImportError, AttributeError, ValueError):  # a stage being written: show its name only
        return ""


class ReviewScreen(WorkerErrors, Screen[None]):
    """One review: open (pin) it, run its stages, read each stage's evidence."""

    CSS_PATH = "review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_all", "Run unfinished stages"),
        Binding("f", "run_fetch", "Fetch only"),
        Binding("c", "cancel", "Cancel"),
        Binding("d", "decide", "Decide"),
        Binding("v", "view_diff", "Diff vs inventory"),
        Binding("o", "open_code", "Custom code"),
        Binding("escape", "back", "Queue"),
    ]
    ERROR_TITLES: ClassVar[dict[str, str]] = {
        "decide": "Cannot decide yet", "state": "Cannot read the ledger", "twin": "Cannot read the inventory",
        "diff": "Cannot diff"}

    def __init__(self, session: Session, *, candidate: Candidate | None = None,
                 review: Review | None = None, fresh: bool = False,
                 only: list[str] | None = None) -> None:
        super().__init__()
        assert candidate or review, "a review screen shows a candidate or a review"
        self.session = session
        self.candidate = review.candidate if review else candidate
        self.review = review
        self.fresh = fresh
        self.only = only
        self.results: dict[str, StageResult] = {}
        self.cancel_event = threading.Event()
        self.idle = threading.Event()  # set whenever no worker thread of this screen runs
        self.idle.set()
        self.running = False
        self.pin_state = "(pinning…)"
        self.runs_ended = 0  # how many runs finished or stopped (tests and scripts wait on it)
        #: how many reads of the review (its stored results) reached the screen, shown in full
        self.reads = 0
        #: what the evidence area shows: (stage, its result or None, the hint shown without one)
        self.showing: tuple[str, StageResult | None, str] | None = None
        self.stage_names = session.stage_names(only)
        self.twin: ApprovedModel | None = None  # the inventory model of the same repo id, if any

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.headline(), id="review-head")
        with Horizontal(id="review-body"):
            yield StageChecklist([(name, stage_title(name)) for name in self.stage_names], id="checklist")
            yield Container(id="evidence")
        yield StageProgressBar(id="progress")
        yield Footer()

    async def on_mount(self) -> None:
        checklist = self.query_one(StageChecklist)
        checklist.border_title = "Stages"
        checklist.focus()
        if self.review is not None:
            await self.show_note(Text(f"Reading review {self.review.id}…", style="dim"))
            self.read_review(self.review)
        else:
            await self.show_note(text(f"Opening {self.candidate.repo_id if self.candidate else ''}: "
                                      "pinning the revision to a commit…"))
            self.open_review()

    def on_unmount(self) -> None:
        # leaving the screen must not leave a download running behind it
        self.cancel_event.set()

    def headline(self) -> Text:
        """Candidate, pinned revision, review id and the policy's recommendation."""
        candidate = self.review.candidate if self.review else self.candidate
        assert candidate is not None
        line = Text.assemble((shown(candidate.repo_id), "bold"), "  ")
        if candidate.source == "local":
            line.append(f"folder {shown(candidate.path)}")
        else:
            line.append(shown(f"{candidate.revision} → {candidate.commit or self.pin_state}"))
        if self.review is not None:
            recommendation = self.session.policy.recommend(self.results)
            line.append(f"\nreview {self.review.id} · recommendation: ")
            line.append(recommendation, style=f"bold {RECOMMENDATION_STYLE[recommendation]}")
            if self.review.state != "open":
                line.append(f" · {self.review.state}", style="bold")
        return line

    async def show_note(self, text: str | Text) -> None:
        """Replace the evidence area with a line of text."""
        self.showing = None
        evidence = self.query_one("#evidence", Container)
        await evidence.remove_children()
        await evidence.mount(Static(text, classes="note"))

    async def show_review(self, review: Review, results: dict[str, StageResult]) -> None:
        self.review, self.candidate = review, review.candidate
        self.results = dict(results)
        checklist = self.query_one(StageChecklist)
        for name in self.stage_names:
            result = self.results.get(name)
            checklist.set_status(name, result.status if result else None)
        self.refresh_head()
        self.read_twin(review)
        checklist.select(self.stage_names[0])
        await self.show_stage(self.stage_names[0])
        self.reads += 1

    def refresh_head(self) -> None:
        self.query_one("#review-head", Static).update(self.headline())
        self.refresh_bindings()

    async def show_stage(self, stage: str) -> None:
        """Show ``stage``'s evidence panel, or why there is none yet.

        A panel already showing this very result stays: the highlight's message can arrive after
        the stage finished, and rebuilding the panel then would lose the curator's place in it.
        """
        result = self.results.get(stage)
        hint = "" if result is not None else "running…" if self.query_one(StageChecklist).running == stage \
            else "not run yet — press r to run the unfinished stages, f to fetch only"
        if self.showing is not None and self.showing[0] == stage and self.showing[1] is result \
                and self.showing[2] == hint:
            return
        self.query_one("#evidence", Container).border_title = f"Evidence: {stage}"
        if result is None:
            await self.show_note(Text(f"{stage}: {hint}", style="dim"))
        else:
            evidence = self.query_one("#evidence", Container)
            await evidence.remove_children()
            await evidence.mount(panel_for(stage)(result))
        self.showing = (stage, result, hint)

    # -- actions --------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self.start_run(self.only)

    def action_run_fetch(self) -> None:
        self.start_run(["fetch"])

    def start_run(self, only: list[str] | None) -> None:
        if self.review is None:
            self.notify("The review is not open yet.", severity="warning")
            return
        if self.running:
            self.notify("Stages are already running; press c to cancel them.", severity="warning")
            return
        self.running = True
        self.cancel_event = threading.Event()
        self.idle.clear()
        self.add_class("running")
        self.run_stages(self.review, only, self.cancel_event)

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("Nothing is running.")
            return
        self.cancel_event.set()
        self.query_one("#progress-text", Label).update("cancelling…")

    def action_decide(self) -> None:
        """Open the decision screen (approve or reject, signed) for this review."""
        if self.review is None or self.running:
            self.notify("Decide once the review is open and no stage is running.", severity="warning")
            return
        self.read_decision_basis(self.review.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="decide")
    def read_decision_basis(self, review_id: str) -> None:
        """What the decision screen shows (assessment, swap, stale stages): ledger reads."""
        from curator.tui.screens.decision import DecisionBasis

        self.app.call_from_thread(self.show_decision, DecisionBasis.read(self.session, review_id))

    def show_decision(self, basis: DecisionBasis) -> None:
        from curator.tui.screens.decision import DecisionScreen

        if not self.is_attached:  # the curator left the review while it was read
            return
        screen = DecisionScreen(self.session, basis)
        self.app.push_screen(screen, lambda outcome: self.after_decision(outcome, screen.rerun))

    def after_decision(self, outcome: object, rerun: list[str] | None = None) -> None:
        if self.review is not None:  # the ledger now says whether it was decided
            self.read_state(self.review)
        if rerun:  # stale stages the curator chose to run again: their results are gone
            checklist = self.query_one(StageChecklist)
            for stage in rerun:
                self.results.pop(stage, None)
                checklist.set_status(stage, None)
            self.start_run(self.only)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """v and o show only when they apply: an inventory model to diff with, custom code to read."""
        if action == "open_code":
            return bool(code_entries(self.results.get("scan")))
        return action != "view_diff" or self.twin is not None

    def action_view_diff(self) -> None:
        if self.review is None or self.twin is None:
            self.notify("No approved model of this repo in the inventory to compare with.",
                        severity="warning")
            return
        self.read_diff(self.twin.review_id, self.review.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff")
    def read_diff(self, before: str, after: str) -> None:
        """The two reviews' evidence, read from the ledger off the UI thread, then the diff screen."""
        from curator.tui.screens.diff import DiffScreen, read_diff

        try:
            doc = read_diff(self.session, before, after)
        except CuratorError as exc:
            self.app.call_from_thread(self.notify, shown(exc.diagnostics()), severity="error", markup=False)
            return
        self.app.call_from_thread(self.show_diff, DiffScreen(doc))

    def show_diff(self, screen: Screen[None]) -> None:
        if self.is_attached:
            self.app.push_screen(screen)

    def action_open_code(self) -> None:
        open_code(self, self.session, self.review, self.results.get("scan"))

    def action_back(self) -> None:
        self.cancel_event.set()
        self.app.pop_screen()

    # -- workers: blocking calls run in threads, results come back as messages --------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="review", name="open")
    def open_review(self) -> None:
        """Pin the candidate (a network call for a hub repo) and open or resume its review."""
        assert self.candidate is not None
        review = self.session.open_review(self.candidate, fresh=self.fresh)
        self.post_message(ReviewOpened(review, self.session.ledger.results(review.id)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="read", name="open")
    def read_review(self, review: Review) -> None:
        """A review of the ledger and its stored results, to show."""
        self.post_message(ReviewOpened(review, self.session.ledger.results(review.id)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="state")
    def read_state(self, review: Review) -> None:
        """The review as the ledger says now (decided or not), for the headline."""
        self.app.call_from_thread(self.review_changed, self.session.ledger.get_review(review.id))

    def review_changed(self, review: Review) -> None:
        if not self.is_attached:
            return
        self.review = review
        self.refresh_head()
        self.read_twin(review)

    @work(thread=True, exclusive=True, exit_on_error=False, group="twin")
    def read_twin(self, review: Review) -> None:
        """The inventory model this review would replace (for v, the diff): a ledger read."""
        twin = inventory_twin(self.session, review)
        self.app.call_from_thread(self.twin_read, twin)

    def twin_read(self, twin: ApprovedModel | None) -> None:
        if not self.is_attached:
            return
        self.twin = twin
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="review", name="run")
    def run_stages(self, review: Review, only: list[str] | None, cancel: threading.Event) -> None:
        """Run the unfinished stages; each event reaches the screen as a message."""
        try:
            self.session.run(review, only, observers=[MessageObserver(self)], cancel=cancel)
        except Cancelled:
            self.post_message(RunEnded(cancelled=True))
        else:
            self.post_message(RunEnded(cancelled=False))
        finally:
            self.idle.set()

    async def worker_failed(self, worker: Worker[object], message: str) -> str | None:
        """Tidy the screen after a failed worker; the modal is ``WorkerErrors``'."""
        if worker.name == "open":
            self.pin_state = "(not pinned)"
            self.refresh_head()
            await self.show_note(text(f"Could not open the review: {message}", "red"))
            return "Could not open the review"
        if worker.group != "review":
            return await super().worker_failed(worker, message)
        await self.end_run()
        return "The run stopped"

    # -- messages from the worker ---------------------------------------------------------
    async def on_review_opened(self, message: ReviewOpened) -> None:
        await self.show_review(message.review, message.results)

    def on_stage_started(self, message: StageStarted) -> None:
        checklist = self.query_one(StageChecklist)
        checklist.set_running(message.stage)
        self.query_one(StageProgressBar).start(message.stage)
        checklist.select(message.stage)

    def on_stage_progress(self, message: StageProgress) -> None:
        self.query_one(StageProgressBar).advance(message.stage, message.done, message.total,
                                                 message.unit, message.detail)

    async def on_stage_finished(self, message: StageFinished) -> None:
        result = message.result
        if result.stage not in self.stage_names:
            return
        self.results[result.stage] = result
        checklist = self.query_one(StageChecklist)
        checklist.set_status(result.stage, result.status)
        self.refresh_head()
        if checklist.selected_stage == result.stage:
            await self.show_stage(result.stage)

    async def on_run_ended(self, message: RunEnded) -> None:
        stopped = self.query_one(StageChecklist).running
        if message.cancelled:
            self.notify(f"Cancelled{' ' + stopped if stopped else ''}: finished stages are kept; "
                        "press r to resume.", severity="warning")
        await self.end_run()

    async def end_run(self) -> None:
        """Back to idle; ``running`` and ``runs_ended`` change last, once the screen is settled."""
        self.remove_class("running")
        checklist = self.query_one(StageChecklist)
        stopped = checklist.running
        checklist.set_running(None)
        if stopped and checklist.selected_stage == stopped:
            await self.show_stage(stopped)
        self.running = False
        self.runs_ended += 1

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.review is not None and event.option.id:
            await self.show_stage(event.option.id)
