"""Parsing: front matter the hub's way, duplicate keys, broken bytes, huge and hostile cards."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from curator.core.models import Severity
from curator.stages.card.parse import parse_card


def _codes(data: bytes, **kwargs: int) -> list[str]:
    return [p.code for p in parse_card(data, **kwargs).problems]  # type: ignore[arg-type]


def test_front_matter_keys_and_lines() -> None:
    card = parse_card(b"---\nlicense: mit\nbase_model:\n  - a/b\n  - c/d\n---\n# T\n\n## S\ntext\n")
    assert card.has_front_matter and card.metadata_readable
    assert card.metadata == {"license": "mit", "base_model": ["a/b", "c/d"]}
    assert card.key_lines == {"license": 2, "base_model": 3, "base_model[0]": 4, "base_model[1]": 5}
    assert card.body_line == 7
    assert [(s.location, s.line) for s in card.sections if s.level] == [("T", 7), ("T > S", 9)]
    assert card.problems == []


def test_windows_line_endings_and_bom() -> None:
    card = parse_card(b"\xef\xbb\xbf---\r\nlicense: mit\r\n---\r\n# Title\r\n")
    assert card.metadata == {"license": "mit"}
    assert [s.heading for s in card.sections if s.level] == ["Title"]


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    card = parse_card(b"---\nlicense: mit\nx:\n  a: 1\n  a: 2\nlicense: other\n---\n")
    dups = [p for p in card.problems if p.code == "card-metadata-duplicate-key"]
    assert len(dups) == 2
    messages = " ".join(p.message for p in dups)
    assert "'license' appears again (first at line 2)" in messages and "line 6" in messages
    assert "'x.a' appears again (first at line 4)" in messages
    assert card.metadata["license"] == "other", "PyYAML's reading (last wins) is what we grade"


def test_malformed_yaml_is_a_finding_with_its_line() -> None:
    card = parse_card(b"---\nlicense: mit\ntags: [a, b\nother: 1\n---\n# body\n")
    assert not card.metadata_readable and card.metadata == {}
    (problem,) = card.problems
    assert problem.code == "card-metadata-malformed" and problem.severity == Severity.MEDIUM
    assert "line" in problem.message and "README.md" in problem.message
    assert [s.heading for s in card.sections if s.level] == ["body"]


def test_front_matter_that_is_not_a_mapping() -> None:
    assert _codes(b"---\n- a\n- b\n---\n") == ["card-metadata-not-a-mapping"]
    assert _codes(b"---\njust a string\n---\n") == ["card-metadata-not-a-mapping"]


def test_python_tags_are_refused_not_constructed() -> None:
    data = b"---\nx: !!python/object/apply:os.system ['true']\n---\n"
    assert _codes(data) == ["card-metadata-malformed"]


def test_values_yaml_cannot_give_json_become_text() -> None:
    card = parse_card(b"---\nwhen: 2024-01-02\nblob: !!binary aGVsbG8=\nnan: .nan\n"
                      b"s: !!set {a, b}\n1: one\n---\n")
    assert card.metadata["when"] == "2024-01-02"
    assert card.metadata["blob"] == "<5 bytes>"
    assert card.metadata["nan"] == "nan"
    assert sorted(card.metadata["s"]) == ["a", "b"]
    assert card.metadata["1"] == "one"


def test_int_past_python_digit_limit_and_impossible_date() -> None:
    assert _codes(b"---\nx: " + b"9" * 5000 + b"\n---\n") == ["card-metadata-malformed"]
    assert _codes(b"---\nx: 2024-13-45\n---\n") == ["card-metadata-malformed"]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i > 1 else "*a"] * 10) + "]")
    started = time.monotonic()
    codes = _codes(("---\n" + "\n".join(lines) + "\n---\n").encode())
    assert codes == ["card-metadata-too-complex"]
    assert time.monotonic() - started < 30  # refused, not expanded (expanding takes far longer)


def test_recursive_alias_is_refused() -> None:
    assert _codes(b"---\na: &a [*a]\n---\n") == ["card-metadata-too-complex"]


def test_deep_nesting_cannot_crash_the_process() -> None:
    """libyaml's composer segfaults past ~50,000 levels: the depth check must come first."""
    code = (
        "from curator.stages.card.parse import parse_card\n"
        "for doc in (b'[' * 100000 + b']' * 100000, b'- ' * 300000, b'{a: ' * 200000):\n"
        "    card = parse_card(b'---\\n' + doc + b'\\n---\\n# t\\n')\n"
        "    print(sorted({p.code for p in card.problems}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.splitlines() == ["['card-metadata-too-complex']"] * 3


def _nested(kind: str, levels: int) -> bytes:
    """A mapping whose one value nests collections until the whole is ``levels`` deep."""
    inner = levels - 1
    if kind == "flow-sequence":
        return b"k: " + b"[" * inner + b"x" + b"]" * inner
    if kind == "block-sequence":
        return b"k:\n" + b"".join(b"  " * i + b"-\n" for i in range(inner - 1)) + b"  " * (inner - 1) + b"- x"
    lines = [b"  " * i + b"k:" for i in range(levels)]
    return b"\n".join(lines) + b" x"


@pytest.mark.parametrize("kind", ["flow-sequence", "block-sequence", "mapping"])
def test_nesting_at_the_cap_is_read_and_one_past_it_is_too_complex(kind: str) -> None:
    from curator.stages.card.frontmatter import MAX_DEPTH

    at_cap = parse_card(b"---\n" + _nested(kind, MAX_DEPTH) + b"\n---\n# t\n")
    assert [p.code for p in at_cap.problems] == []
    assert "k" in at_cap.metadata
    over = parse_card(b"---\n" + _nested(kind, MAX_DEPTH + 1) + b"\n---\n# t\n")
    assert [p.code for p in over.problems] == ["card-metadata-too-complex"]


@pytest.mark.parametrize("levels", [999, 1000, 1001, 5000])
def test_libyaml_own_depth_limit_gives_the_same_answer(levels: int) -> None:
    """Around libyaml's own limit (1000 flow levels) the answer does not change."""
    codes = _codes(b"---\nk: " + b"[" * levels + b"]" * levels + b"\n---\n")
    assert codes == ["card-metadata-too-complex"]


def test_non_utf8_bytes_are_replaced_and_reported() -> None:
    card = parse_card("---\nlicense: mit\n---\n# Caf\xe9 model\n".encode("latin-1"))
    assert [p.code for p in card.problems] == ["card-not-utf8"]
    assert card.metadata == {"license": "mit"}
    assert card.sections[1].heading == "Caf\ufffd model"


def test_a_cut_inside_a_character_at_the_cap_is_not_a_decoding_problem() -> None:
    data = ("# " + "é" * 100).encode()
    card = parse_card(data, max_bytes=51)  # cuts the 25th "é" in half
    assert [p.code for p in card.problems] == ["card-too-large"]


def test_huge_card_is_capped_and_reported() -> None:
    body = b"# Title\n\n## Training data\n\nReal words about the data, many of them.\n"
    data = body + b"x" * (3 << 20)
    started = time.monotonic()
    card = parse_card(data, max_bytes=1 << 20, size=len(data))
    assert time.monotonic() - started < 60  # a liveness bound, not a performance target
    assert [p.code for p in card.problems] == ["card-too-large"]
    assert card.truncated and card.size == len(data)
    assert "Training data" in [s.heading for s in card.sections]


def test_unterminated_front_matter() -> None:
    card = parse_card(b"---\nlicense: mit\n# no closing line\n")
    assert [p.code for p in card.problems] == ["card-front-matter-unterminated"]
    assert card.metadata == {}


def test_headings_atx_setext_html_and_fences() -> None:
    card = parse_card(
        b"Title\n=====\n\nIntro\n\nSub title\n---------\n\n<h2 align=\"center\">Html One</h2>\n\n"
        b"~~~\n# not a heading\n~~~\n\n### 1. Training Data [optional] ###\ntext\n")
    assert [(s.level, s.heading) for s in card.sections if s.level] == [
        (1, "Title"), (2, "Sub title"), (2, "Html One"), (3, "1. Training Data [optional]")]
    assert card.sections[-1].key == "training data"
    assert card.sections[-1].path == ("Title", "Html One", "1. Training Data [optional]")


def test_labels_bold_and_plain() -> None:
    card = parse_card("# M\n- **Developed by:** Acme\n- **License**: MIT\n- learning_rate: 2e-05\n"
                      "- 开发者：示例科技\n".encode())
    assert [(lb.label, lb.value, lb.line) for lb in card.labels] == [
        ("Developed by", "Acme", 2), ("License", "MIT", 3), ("learning_rate", "2e-05", 4),
        ("开发者", "示例科技", 5)]


def test_hub_library_disagreement_is_a_finding() -> None:
    card = parse_card(b"---\nmodel-index:\n- name: m\n  results:\n  - task: {type: t}\n---\n")
    assert [p.code for p in card.problems] == ["card-metadata-hub-rejects"]
    assert card.problems[0].tool == "huggingface_hub"


def test_the_card_cannot_switch_the_hub_library_to_logging(capfd) -> None:  # type: ignore[no-untyped-def]
    card = parse_card(b"---\nignore_metadata_errors: true\nmodel-index: [{results: 3}]\n---\n")
    assert [p.code for p in card.problems] == ["card-metadata-hub-rejects"]
    assert capfd.readouterr().err == ""
