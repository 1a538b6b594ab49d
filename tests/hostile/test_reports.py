"""Hostile strings in every report format: Markdown gets no heading, image, HTML or broken code
span from them; SARIF no embedded link or control character; HTML no tag; JSON keeps the data."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from curator.decision.verify import trusted_curators
from curator.export.approval import build_report
from curator.export.formats import render
from tests.hostile.conftest import Hostile
from tests.hostile.corpus import FLAGGED, assert_inert


def _report(h: Hostile) -> object:
    s = h.session
    return build_report(s, h.review.id, trusted_curators(s.policy))


def test_markdown_report_renders_hostile_values_as_literal_text(hostile: Hostile) -> None:
    from markdown_it import MarkdownIt

    md = render(_report(hostile), "md")  # type: ignore[arg-type]
    assert_inert(md, "the Markdown report")
    # rendered as a GitHub-style renderer would: the values stay text
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    headings = re.findall(r"<h\d>(.*?)</h\d>", page)
    assert not any("APPROVED" in h for h in headings), headings
    assert "<img" not in page and 'href="http://evil.example' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # a file name with backticks stays inside one code span: the fence is longer than its runs
    name = "![pwn](evil.png) <img src=x onerror=alert(1)> a``b`c.txt"
    assert f"<code>{name.replace('<', '&lt;').replace('>', '&gt;')}</code>" in page
    # every table row of the manifest keeps its four cells (no newline or pipe broke one)
    manifest = page.split("<h2>Manifest</h2>")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", manifest, re.S)
    assert rows and all(row.count("<td>") == 4 for row in rows[1:])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        assert not any(name.startswith("on") for name, _ in attrs), (tag, attrs)


def test_html_report_has_no_tag_from_a_candidate(hostile: Hostile) -> None:
    page = render(_report(hostile), "html")  # type: ignore[arg-type]
    assert_inert(page, "the HTML report")
    parser = _Tags()
    parser.feed(page)
    assert "img" not in parser.tags
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_sarif_messages_have_no_embedded_link_or_control_character(hostile: Hostile) -> None:
    log = json.loads(render(_report(hostile), "sarif"))  # type: ignore[arg-type]
    results = [r for run in log["runs"] for r in run["results"]]
    flagged = [r for r in results if FLAGGED.split()[0] in json.dumps(r)]
    assert flagged, "the scanners flagged the hostile pickle"
    for result in results:
        text = result["message"]["text"]
        assert_inert(text, "a SARIF message")
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text), text  # [text](target) is a SARIF link
    uris = [a["location"]["uri"] for run in log["runs"] for a in run["artifacts"]]
    assert all(" " not in u and "[" not in u and "\u202e" not in u for u in uris), uris


def test_json_report_keeps_the_data_exactly(hostile: Hostile) -> None:
    document = json.loads(render(_report(hostile), "json"))  # type: ignore[arg-type]
    assert FLAGGED in json.dumps(document, ensure_ascii=False)  # data stays data: only displays escape
