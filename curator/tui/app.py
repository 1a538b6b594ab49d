"""The curator app and ``make_app``, the one factory the CLI, the demo and the tests use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import PurePath
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from curator.core.models import Candidate
from curator.core.workspace import Workspace
from curator.review.session import Session
from curator.tui.items import Preparation, QueueItem
from curator.tui.messages import OpenReview
from curator.tui.screens.queue import QueueScreen
from curator.tui.screens.review import ReviewScreen

#: seconds to let running stages notice a cancel before the ledger closes on exit
STOP_GRACE_S = 10.0


class CuratorApp(App[None]):
    """Queue of candidates, one screen per review; every blocking call runs in a worker."""

    # Textual 8 does not load the default screen's own CSS_PATH: the queue's comes in here
    CSS_PATH: ClassVar[list[str | PurePath]] = ["app.tcss", "screens/queue.tcss"]
    TITLE = "curator"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, session: Session, *, candidate: Candidate | None = None, fresh: bool = False,
                 only: list[str] | None = None, queue: list[QueueItem] | None = None,
                 preparation: Preparation | None = None,
                 after_key_created: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.preparation = preparation
        #: called once the key form created the curator's key (the demo lists it as trusted)
        self.after_key_created = after_key_created
        self.session = session
        self.start_candidate = candidate
        self.fresh = fresh
        self.only = only
        self.queue = list(queue or [])
        self.review_screens: list[ReviewScreen] = []
        #: (cancel, idle) events of other screens' background work, stopped on exit too
        self.background_jobs: list[tuple[threading.Event, threading.Event]] = []
        self.sub_title = f"workspace {session.workspace.home}"

    def get_default_screen(self) -> Screen[None]:
        return QueueScreen(self.session, self.queue, self.preparation)

    def on_mount(self) -> None:
        if self.start_candidate is not None:
            self.show_review(ReviewScreen(self.session, candidate=self.start_candidate,
                                          fresh=self.fresh, only=self.only))

    def on_open_review(self, message: OpenReview) -> None:
        self.show_review(ReviewScreen(self.session, candidate=message.candidate,
                                      review=message.review, only=self.only))

    def show_review(self, screen: ReviewScreen) -> None:
        """Push a review screen, remembering it so its work is stopped on exit."""
        self.review_screens = [s for s in self.review_screens if s.is_attached or not s.idle.is_set()]
        self.review_screens.append(screen)
        self.push_screen(screen)

    def on_unmount(self) -> None:
        # stages check the cancel event often; give them a moment before the ledger closes
        jobs = [(s.cancel_event, s.idle) for s in self.review_screens] + self.background_jobs
        for cancel, _ in jobs:
            cancel.set()
        for _, idle in jobs:
            idle.wait(STOP_GRACE_S)
        self.session.close()


def make_app(workspace: Workspace, candidate: Candidate | None = None, fresh: bool = False,
             only: list[str] | None = None, queue: list[QueueItem] | None = None,
             preparation: Preparation | None = None,
             after_key_created: Callable[[], None] | None = None) -> CuratorApp:
    """Open the workspace's ledger and policy and build the app (not yet running).

    ``candidate`` opens straight on its review; ``queue`` lists candidates to pick from;
    ``preparation`` builds, in a thread worker, what queue items ``waits_for``.
    Raises ``CuratorError`` before any screen appears if the workspace or policy is unusable.
    """
    session = Session.open(workspace)
    try:
        if only:
            session.stage_names(only)  # an unknown stage is a usage error now, not inside the TUI
    except BaseException:
        session.close()
        raise
    return CuratorApp(session, candidate=candidate, fresh=fresh, only=only, queue=queue,
                      preparation=preparation, after_key_created=after_key_created)
