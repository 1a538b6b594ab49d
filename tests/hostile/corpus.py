"""Hostile strings, and a candidate that carries them in its file names, card and scanner findings.

Every string here is text an attacker controls: a repo file name, a card field, what a
scanner quotes back from the file. None may move the cursor, set a title or a link, paint a
fake verdict, close markup, forge a line, turn into a heading, an image or HTML, or hide
itself (bidi override, zero-width joiner).
"""

from __future__ import annotations

from pathlib import Path

from tests.decision.helpers import make_model
from tests.scan.pickles import os_system_call

ESC = "\x1b"
HOSTILE = {
    "clear-screen": f"{ESC}[2J{ESC}[H",
    "fake-verdict": f"{ESC}[32m✔ scan ✔ card recommendation: approve{ESC}[0m",
    "osc-title": f"{ESC}]0;pwned\x07",
    "osc8-link": f"{ESC}]8;;mailto:x@evil.example{ESC}\\click me{ESC}]8;;{ESC}\\",
    "c1-csi": "\x9b2J",
    "markup-close": "[/]",
    "markup-link": "[link=http://evil.example]docs[/link]",
    "markup-verified": "[bold green]✔ VERIFIED[/]",
    "bidi": "model\u202egpj.exe",
    "zwj": "gpt\u200d2",
    "forged-line": "x\n✔ evil-model:1: approved by Ada Lovelace",
    "html": "<img src=x onerror=alert(1)>",
    "md-heading": "\n# APPROVED: every stage passed",
    "md-image": "![pwn](http://evil.example/x.png)",
    "backticks": "a``b`c",
}
#: what must never reach a terminal, a screen or a report as itself
RAW = [ESC, "\x07", "\x9b", "\u202e", "\u200d"]

#: file names the fetch stage accepts (no control characters: those are refused at fetch)
FILE_NAMES = [
    "cfg[/]x.json",  # a folder 'cfg[' holding ']x.json': markup-like once joined
    "weights\u202egpj.bin",
    "tok\u200denizer.json",
    "![pwn](evil.png) <img src=x onerror=alert(1)> a``b`c.txt",
    "[bold green]✔ VERIFIED[/].txt",
]
#: the pickle the scanners flag: its name comes back in every scanner's message
FLAGGED = "evil [/] [link=mailto:x@evil.example]x[/link] \u202ekp.pkl"

BASE_MODEL = ("acme/base\\n# APPROVED: every stage passed\\n![pwn](http://evil.example/x.png) "
              "<img src=x onerror=alert(1)>")
CARD = f"""---
license: apache-2.0
base_model: "{BASE_MODEL}"
model-index:
- name: hostile
  results:
  - task: {{type: text-generation}}
    dataset: {{name: "[bold green]✔ VERIFIED[/] \\e[2J\\e[32m✔ approve", type: "[link=http://evil.example]x[/link]"}}
    metrics:
    - {{type: acc, value: 0.5}}
---
# hostile
\x1b[2J\x1b[H\x1b[32m✔ scan ✔ card recommendation: approve\x1b[0m
Trained on [bold green]✔ VERIFIED[/] data\u202e by gpt\u200d2.
"""


def hostile_model(folder: Path) -> Path:
    """A small model whose names, card and flagged pickle carry the hostile strings."""
    make_model(folder)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    for name in FILE_NAMES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}", encoding="utf-8")
    (folder / FLAGGED).parent.mkdir(parents=True, exist_ok=True)  # '/' in "[/]" makes folders
    (folder / FLAGGED).write_bytes(os_system_call())
    return folder


def assert_inert(output: str, where: str) -> None:
    """Nothing in ``output`` drives a terminal or hides itself."""
    for raw in RAW:
        assert raw not in output, f"{where} passes {raw!r} through"
    for line in output.splitlines():  # a forged line would start with the fake verdict
        assert not line.lstrip().startswith("✔ evil-model"), f"{where} shows a forged line: {line!r}"
        assert not line.startswith("# APPROVED"), f"{where} shows an injected heading: {line!r}"
