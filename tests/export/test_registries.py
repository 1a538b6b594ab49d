"""Attack 7 of issue 15: pushing an approved model to a second registry (a real docker-registry on
loopback) must not make the first registry's inventory call it "no longer in the registry"; an
inventory and BOM over both (``--registry`` repeated, or ``registries:`` in policy) list it once
per registry, each row naming its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.export.bom import validate
from tests.decision.helpers import cli
from tests.export.conftest import Adoptions
from tests.registry.conftest import Distribution, start_distribution


@pytest.fixture
def second(tmp_path: Path) -> Iterator[Distribution]:
    server = start_distribution(tmp_path / "second-registry")
    yield server
    server.process.terminate()
    server.process.wait(10)


def _start_state(registry: Distribution) -> None:
    """A second registry starts its signed state from the team's root, once (as the README says)."""
    started = cli("state", "init", "--registry", registry.url)
    assert started.returncode == 0, started.stderr


def _models(*args: str) -> list[dict[str, Any]]:
    done = cli("inventory", "--json", *args)
    assert done.returncode == 0, done.stderr
    models: list[dict[str, Any]] = json.loads(done.stdout)["models"]
    return models


def test_a_push_to_a_second_registry_leaves_the_first_whole(
    adopted: Adoptions, second: Distribution, tmp_path: Path
) -> None:
    _start_state(second)
    pushed = cli("push", adopted.first.review_id, "--registry", second.url)
    assert pushed.returncode == 0, pushed.stderr
    default = {m["ref"]: m for m in _models()}
    first = default[adopted.first.ref]
    assert first["status"] == "approved" and first["reasons"] == [], first["reasons"]
    assert first["registry"] == str(adopted.session.workspace.registry_dir)
    assert not any("no longer in the registry" in r for m in default.values() for r in m["reasons"])
    remote = _models("--registry", second.url)
    assert [m["repo_id"] for m in remote] == ["local/tiny-one"]
    assert remote[0]["registry"] == second.url and remote[0]["status"] == "approved", remote[0]["reasons"]
    both = _models("--registry", "workspace", "--registry", second.url)
    rows = [(m["repo_id"], m["registry"]) for m in both]
    assert ("local/tiny-one", str(adopted.session.workspace.registry_dir)) in rows
    assert ("local/tiny-one", second.url) in rows and len(rows) == 3
    assert all(m["status"] == "approved" for m in both)


def test_policy_registries_span_both_in_inventory_and_bom(
    adopted: Adoptions, second: Distribution, tmp_path: Path
) -> None:
    _start_state(second)
    assert cli("push", adopted.first.review_id, "--registry", second.url).returncode == 0
    data = yaml.safe_load((adopted.checklists / "default.yaml").read_text())
    data["registries"] = ["workspace", second.url]
    (adopted.checklists / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    registries = {m["registry"] for m in _models()}
    assert registries == {str(adopted.session.workspace.registry_dir), second.url}
    table = cli("inventory", "--filter", f"registry={second.url.split('//')[1]}")
    assert table.returncode == 0 and "1 of 3 model(s) shown" in table.stderr
    out = tmp_path / "bom.json"
    assert cli("bom", "-o", str(out)).returncode == 0
    assert validate(out.read_text()) == []
    components = json.loads(out.read_text())["components"]
    where = sorted(
        {p["value"] for c in components for p in c["properties"] if p["name"] == "curator:registry"}
    )
    assert where == sorted(registries)
    assert len({c["bom-ref"] for c in components}) == 3


def test_an_unknown_layout_folder_is_a_usage_error(adopted: Adoptions, tmp_path: Path) -> None:
    done = cli("inventory", "--registry", f"oci:{tmp_path / 'nowhere'}")
    assert done.returncode == 2 and "no OCI layout" in done.stderr
