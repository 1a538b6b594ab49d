"""Hostile strings in the TUI: every panel of a real review of the hostile candidate opens
(no MarkupError), and nothing on screen drives the terminal or passes for a verdict."""

from __future__ import annotations

import html
import re
from pathlib import Path

from textual.widgets import Markdown, Static

from curator.core.workspace import Workspace
from curator.review.session import parse_target
from curator.tui.app import make_app
from curator.tui.widgets.checklist import StageChecklist
from curator.tui.widgets.evidence import PANELS
from curator.tui.widgets.evidence.card import CardPanel
from tests.hostile.conftest import Hostile
from tests.hostile.corpus import assert_inert
from tests.tui.support import laid_out, wait_opened, wait_until

SIZE = (140, 50)


def screen_text(svg: str) -> str:
    """The characters of an exported screenshot, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_every_panel_of_the_hostile_review_shows_data_not_commands(hostile: Hostile) -> None:
    assert hostile.session.ledger.results(hostile.review.id)["scan"].status.value == "failed"
    app = make_app(Workspace.open(hostile.session.workspace.home),
                   candidate=parse_target(str(hostile.folder)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_opened(pilot)
        assert screen.review is not None and screen.review.id == hostile.review.id
        seen = {}
        checklist = screen.query_one(StageChecklist)
        for stage in ("fetch", "scan", "card"):
            checklist.select(stage)  # as a curator picks it; the panel follows the highlight's message
            # ``showing`` names the stage once its panel is mounted, rows and all
            await wait_until(pilot, lambda s=stage: screen.showing is not None and screen.showing[0] == s
                             and screen.showing[1] is not None, what=f"the {stage} panel")
            assert screen.query(PANELS[stage])
            # a table draws its rows once it has measured them, when next idle
            await wait_until(pilot, lambda: laid_out(screen), what=f"the {stage} panel's tables")
            await pilot.pause()  # ends with a screen update: the picture then holds the measured tables
            seen[stage] = screen_text(app.export_screenshot())
            assert_inert(seen[stage], f"the {stage} panel")
        head = screen_text(app.export_screenshot())
        assert "recommendation: reject" in head  # the real verdict, not the one a file name paints
        assert "weights⟨U+202E⟩gpj.bin" in seen["fetch"]
        assert "cfg[/]x.json" in seen["fetch"] and "cfg[/]x.json" in seen["scan"]
        assert "[bold green]✔ VERIFIED[/]" in seen["card"]  # the dataset name, as its characters
        # the card as written: its escape sequences are shown, not obeyed
        panel = screen.query_one(CardPanel)
        panel.focus()
        await pilot.press("m")
        await wait_until(pilot, lambda: panel.has_class("reading") and bool(panel.query(Markdown))
                         and bool(panel.query_one(Markdown).children), what="the card as written")
        source = panel.query_one(Markdown).source
        assert "\x1b" not in source and "␛[2J␛[H␛[32m✔ scan" in source
        assert_inert(screen_text(app.export_screenshot()), "the card viewer")
        assert all("\x1b" not in str(s.content) for s in app.screen.query(Static).results(Static))


async def test_the_error_modal_shows_a_hostile_message_as_text(tmp_path: Path) -> None:
    from textual.app import App

    from curator.tui.screens.error import ErrorScreen

    class Host(App[None]):
        pass

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ErrorScreen("cannot read [/] \x1b[2J\x1b[32m✔ approved\nforged line", "title"))
        await pilot.pause()
        text = screen_text(app.export_screenshot())
        assert_inert(text, "the error modal")
        assert "cannot read [/] ␛[2J␛[32m✔ approved\\nforged line" in text
