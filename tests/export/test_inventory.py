"""`curator inventory`: the DESIGN.md JSON keys, sorting and filtering, and the registry's view."""

from __future__ import annotations

import json

from curator.inventory.build import build_inventory
from curator.registry.layout import LayoutRegistry
from tests.decision.helpers import cli
from tests.export.conftest import WAIVER_REASON, Adoptions


def test_json_has_the_contract_keys(adopted: Adoptions) -> None:
    done = cli("inventory", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    models = {m["ref"]: m for m in document["models"]}
    assert set(models) == {adopted.first.ref, adopted.second.ref}
    second = models[adopted.second.ref]
    assert second["repo_id"] == "local/tiny-two" and second["manifest_digest"] == adopted.second.digest
    assert second["revision"].startswith("sha256:") and second["status"] == "approved"
    assert second["decision"]["outcome"] == "approved"
    assert second["decision"]["curator"]["name"] == "Ada Lovelace"
    assert second["decision"]["time"].endswith("Z")
    assert second["decision"]["waivers"][0]["reason"] == WAIVER_REASON
    assert second["license"] == "apache-2.0" and second["lineage"]["bases"][0]["repo_id"] == "local/tiny-one"
    assert set(second["scanners"]) >= {"modelscan", "picklescan", "modelaudit"}
    assert second["last_check"] is None and second["age_days"] == 0
    assert document["counts"] == {"approved": 2, "needs-re-review": 0, "retired": 0}


def test_sort_and_filter_by_columns(adopted: Adoptions) -> None:
    refs = sorted([adopted.first.ref, adopted.second.ref])
    done = cli("inventory", "--json", "--sort", "ref", "--reverse")
    assert [m["ref"] for m in json.loads(done.stdout)["models"]] == refs[::-1]
    done = cli("inventory", "--json", "--filter", "lineage=tiny-one", "--filter", "status=approved")
    assert [m["ref"] for m in json.loads(done.stdout)["models"]] == [adopted.second.ref]
    done = cli("inventory", "--json", "--filter", "EVAL UNTIL")  # free text, any column (here: waivers)
    assert [m["ref"] for m in json.loads(done.stdout)["models"]] == [adopted.second.ref]
    bad = cli("inventory", "--filter", "colour=red")
    assert bad.returncode == 2 and "cannot filter by 'colour'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    table = cli("inventory")
    assert table.returncode == 0 and adopted.first.ref in table.stdout and "2 approved" in table.stderr


def test_a_tag_gone_from_the_registry_needs_a_re_review(adopted: Adoptions) -> None:
    s = adopted.session
    registry = LayoutRegistry(s.workspace.registry_dir)
    name, tag = adopted.first.ref.rsplit(":", 1)
    assert registry.delete_tag(name, tag) is True
    assert registry.delete_tag(name, tag) is False
    entry = build_inventory(s, registry).find(adopted.first.ref)
    assert entry.status == "needs-re-review"
    assert entry.reasons == (f"{adopted.first.ref} is no longer in the registry",)
