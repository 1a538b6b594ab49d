"""The curator app and ``make_app``, the one factory the CLI, the demo and the tests use."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any, ClassVar, Literal

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from curator.core.errors import UsageError
from curator.core.models import Candidate
from curator.core.workspace import Workspace
from curator.review.session import Session
from curator.tui.items import Preparation, QueueItem
from curator.tui.messages import OpenReview, OpenScreen
from curator.tui.screens.queue import QueueScreen
from curator.tui.screens.review import ReviewScreen

#: seconds to let running stages notice a cancel before the ledger closes on exit
STOP_GRACE_S = 10.0

#: the screen the app opens on: the review queue, the quarterly review or the inventory
Start = Literal["queue", "quarterly", "inventory"]


def screen_css(screen: type[Screen[Any]]) -> list[Path]:
    """A screen's own stylesheets, as paths: Textual loads them when a screen is pushed, never
    for the app's default screen, so the app names its start screen's itself."""
    paths = screen.CSS_PATH
    listed = paths if isinstance(paths, list) else [paths] if paths is not None else []
    here = Path(inspect.getfile(screen)).parent
    return [here / path for path in listed]


class CuratorApp(App[None]):
    """Queue of candidates, one screen per review; every blocking call runs in a worker."""

    # the start screen's own stylesheets are added to these (see ``screen_css``)
    CSS_PATH: ClassVar[list[str | PurePath]] = ["app.tcss", "widgets/evidence/panels.tcss"]
    TITLE = "curator"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, session: Session, *, start: Start = "queue", candidate: Candidate | None = None,
                 fresh: bool = False, only: list[str] | None = None, queue: list[QueueItem] | None = None,
                 preparation: Preparation | None = None,
                 after_key_created: Callable[[], None] | None = None,
                 registry: str | list[str] | None = None, upstream: bool = True) -> None:
        self.start = start
        super().__init__(css_path=[*self.CSS_PATH, *screen_css(self._start_screen_class())])
        if start != "queue":
            self.title = f"curator {start}"
        #: the registry URL(s) the inventory and the quarterly review read (default: configured)
        self.registry = registry
        #: whether the quarterly review asks the hubs for upstream changes
        self.upstream = upstream
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

    def _start_screen_class(self) -> type[Screen[None]]:
        if self.start == "quarterly":
            from curator.tui.screens.quarterly import QuarterlyScreen

            return QuarterlyScreen
        if self.start == "inventory":
            from curator.tui.screens.inventory import InventoryScreen

            return InventoryScreen
        return QueueScreen

    def get_default_screen(self) -> Screen[None]:
        if self.start == "queue":
            return QueueScreen(self.session, self.queue, self.preparation)
        return self.screen_for(self.start)

    def screen_for(self, name: Literal["quarterly", "inventory"]) -> Screen[None]:
        """The quarterly review (its run is stopped on exit, like a review's) or the inventory."""
        if name == "quarterly":
            from curator.tui.screens.quarterly import QuarterlyScreen

            assert not isinstance(self.registry, list), "make_app refuses several registries for it"
            screen = QuarterlyScreen(self.session, self.registry, self.upstream)
            self.background_jobs.append((screen.cancel, screen.idle))
            return screen
        from curator.tui.screens.inventory import InventoryScreen

        return InventoryScreen(self.session, self.registry)

    def on_open_screen(self, message: OpenScreen) -> None:
        self.push_screen(self.screen_for(message.name))

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
             after_key_created: Callable[[], None] | None = None, *, start: Start = "queue",
             registry: str | list[str] | None = None, upstream: bool = True) -> CuratorApp:
    """Open the workspace's ledger and policy and build the app (not yet running).

    ``start`` is the screen it opens on: the review queue (``candidate`` opens straight on its
    review; ``queue`` lists candidates to pick from; ``preparation`` builds, in a thread worker,
    what queue items ``waits_for``), the ``quarterly`` review (of one ``registry``, asking the hubs
    for changes unless ``upstream`` is false) or the ``inventory`` (of one or several registries).
    Raises ``CuratorError`` before any screen appears if the workspace or policy is unusable.
    """
    if start == "quarterly" and isinstance(registry, list):
        raise UsageError("the quarterly review checks one registry at a time",
                         "pass one --registry, or run it once per registry")
    from curator.decision.decide import trusted_curator_keys

    session = Session.open(workspace)
    try:
        session.curators = trusted_curator_keys(session)  # as 'review --headless': the team's root
        if only:
            session.stage_names(only)  # an unknown stage is a usage error now, not inside the TUI
    except BaseException:
        session.close()
        raise
    return CuratorApp(session, start=start, candidate=candidate, fresh=fresh, only=only, queue=queue,
                      preparation=preparation, after_key_created=after_key_created, registry=registry,
                      upstream=upstream)
