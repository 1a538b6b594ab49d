"""Random and hostile cards: the card stage never crashes, never hangs, always explains itself."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.models import Status
from curator.stages.card.grade import CardSettings
from curator.stages.card.license import LicenseTable
from curator.stages.card.parse import parse_card
from curator.stages.card.review import CardInputs, CardReport, examine
from curator.stages.card.rules import ProvenanceRules
from tests.card.conftest import SHIPPED

RULES = ProvenanceRules.load(SHIPPED)
TABLE = LicenseTable.load(SHIPPED)
POLICY = CardSettings.from_section(yaml.safe_load((SHIPPED / "default.yaml").read_text())["card"])
TRUSTED = ["meta-llama", "acme-labs", "mistralai/Mistral-7B-v0.1"]
FAST = settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])

# pieces hub cards are made of, and pieces that break naive parsers
FRAGMENTS = [
    "---\n", "---", "\n", "\r\n", "\r", " ", "\t", "# ", "## ", "###### ", "#", "=====\n", "-----\n",
    "```\n", "~~~~\n", "<!--", "-->", "<h2>", "</h2>", "**", "__", ":", "：", "- ", "* ", "| a | b |\n",
    "|---|---|\n", "[More Information Needed]", "More information needed", "[optional]", "TODO",
    "{{ card_data }}", "license: ", "apache-2.0", "other", "cc-by-nc-4.0", "base_model: ",
    "base_model_relation: ", "datasets: ", "model-index:\n", "- name: m\n", "  results:\n",
    "  - task: {type: t}\n", "    metrics: [{type: acc, value: 1}]\n", "    dataset: {type: d}\n",
    "verified: true", "&a ", "*a", "[", "]", "{", "}", "!!python/object:os.system", "!!binary ",
    "? ", "<<: *a\n", "'", '"', "\\", "\x00", "\ufeff", "\u202e", "é", "训练数据", "Training Data",
    "Developed by", "fine-tuned version of [a/b](x)", "trained from scratch", "commit ",
    "https://github.com/org/repo/train.py", "a" * 300, "9" * 50, "-" * 80, "acme-labs/acme-7b",
]
hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)),
                        max_size=80).map("".join)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      st.text(max_size=30))
json_tree = st.recursive(json_leaf, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.sampled_from(["type", "name", "value", "results", "metrics", "task",
                                     "dataset", "args", "num_few_shot", "split", "verified",
                                     "source", "url", "x"]), children, max_size=5)), max_leaves=25)
metadata = st.dictionaries(
    st.sampled_from(["license", "license_name", "license_link", "base_model",
                     "base_model_relation", "datasets", "model-index", "author", "tags",
                     "language", "eval_results", "training_config", "ignore_metadata_errors"]),
    json_tree, max_size=8)


def _check(report: CardReport) -> None:
    """What every report must be, whatever the card: valid statuses, JSON, explained."""
    doc = report.to_dict()
    json.dumps(doc, allow_nan=False)
    assert report.status in (Status.PASSED, Status.WARNED, Status.FAILED)
    assert doc["summary"], "the status is always explained"
    for grade in doc["fields"].values():
        assert grade["status"] in ("verified", "declared", "missing")
        assert grade["status"] == "missing" or grade["evidence"]
        assert all(e["location"] and e["excerpt"].strip() for e in grade["evidence"])
    assert doc["license"]["verdict"] in ("allowed", "needs-legal", "denied", "missing")


def _examine(data: bytes, repo_id: str = "someone/model") -> CardReport:
    card = parse_card(data, max_bytes=POLICY.max_card_bytes)
    return examine(card, CardInputs(repo_id=repo_id, source="hub", trusted=TRUSTED,
                                    inventory=["meta-llama/Llama-3.1-8B"]), POLICY, RULES, TABLE)


@FAST
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    _check(_examine(data))


@FAST
@given(hostile_text, hostile_text)
def test_hostile_fragments_with_and_without_front_matter(head: str, body: str) -> None:
    _check(_examine(head.encode("utf-8", "surrogatepass")))
    _check(_examine(f"---\n{head}\n---\n{body}".encode("utf-8", "surrogatepass")))


@FAST
@given(metadata, hostile_text)
def test_random_metadata_shapes(meta: dict[str, object], body: str) -> None:
    front = yaml.safe_dump(meta, allow_unicode=True)
    _check(_examine(f"---\n{front}---\n{body}".encode()))


@FAST
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.Iаеоі/", max_size=60))
def test_any_repo_id_for_the_name_check(repo_id: str) -> None:
    _check(_examine(b"---\nlicense: mit\n---\n# m\n", repo_id=repo_id or "x"))


ADVERSARIAL = {
    "unclosed comments": b"<!--" * (1 << 18),
    "one huge line": b"https://github.com/" + b"a/" * (1 << 19),
    "label flood": b"- **Developed by:** [More Information Needed] <!-- x -->\n" * 17000,
    "heading flood": b"## training data\nx\n" * 55000,
    "nested matching headings": b"".join(b"#" * n + b" training data\n" for n in range(1, 7))
    + b"words here " * 95000,
    "newlines": b"\n" * (1 << 20),
    "setext flood": b"a\n-\n" * (1 << 18),
    "yaml keys": b"---\n" + b"".join(b"k%d: v\n" % i for i in range(60000)) + b"---\n",
    "balanced nesting": b"---\n" + b"[" * 200000 + b"]" * 200000 + b"\n---\n",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_megabyte_cards_finish_fast(name: str) -> None:
    started = time.monotonic()
    _check(_examine(ADVERSARIAL[name]))
    assert time.monotonic() - started < 60, f"{name} took too long"  # liveness, not performance


def test_the_test_cards_round_trip(tmp_path: Path) -> None:
    for card in sorted((Path(__file__).parent / "cards").glob("*.md")):
        _check(_examine(card.read_bytes()))
