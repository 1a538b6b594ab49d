"""The wheel carries what a user outside the repository needs: the code, the default policy and
the TUI's stylesheets; its dependencies are exactly the locked versions.

The wheel is built from a copy of the sources and installed, without dependencies, into a fresh
virtualenv whose only other packages are the ones ``make install`` put in this one from the
lock (a path entry, so nothing is downloaded and the editable install of the checkout is not
seen). The commands then run in a folder far from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from scripts.check_lock import canonical, locked

REPO = Path(__file__).resolve().parents[2]
HEADER = b'{"__metadata__":{"format":"pt"}}'
SAFETENSORS = len(HEADER).to_bytes(8, "little") + HEADER


def _build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "curator", source / "curator",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(tmp / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp / "dist").glob("curator-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(python, wheel)``: a new virtualenv holding the built wheel, and the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    ask = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(subprocess.run([str(python), "-c", ask], capture_output=True, text=True,
                                  check=True).stdout.strip())
    # the locked dependencies, as installed here from the lock; a plain path entry does not run
    # this venv's own .pth files, so the checkout's editable curator stays out of sight
    (purelib / "locked-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(purelib), str(wheel)], check=True, capture_output=True)
    return python, wheel


def _curator(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "CURATOR_CHECKLISTS"}}
    return subprocess.run([str(python), "-m", "curator", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300, check=False)


def _candidate(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gpt2"}\n')
    (folder / "model.safetensors").write_bytes(SAFETENSORS)
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n")
    return folder


def test_the_wheel_carries_the_policy_and_the_stylesheets(installed: tuple[Path, Path]) -> None:
    python, _ = installed
    where = subprocess.run([str(python), "-c",
                            "import curator, curator.core.policy as p; print(curator.__file__); "
                            "print(p.checklists_dir())"], capture_output=True, text=True, check=True,
                           cwd="/", env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    module, policy = (Path(line) for line in where.stdout.split())
    assert REPO not in module.parents, "the checkout's curator was imported, not the wheel's"
    for name in ("default.yaml", "publishers.yaml", "provenance.yaml", "licenses.yaml", "curators.yaml",
                 "sigstore-trust-config.json", "evals/claim-map.yaml", "evals/tasks/curator_basics.yaml",
                 "evals/data/basics.jsonl"):
        assert (policy / name).is_file(), name
    shipped = {path.relative_to(module.parent) for path in (module.parent / "tui").rglob("*.tcss")}
    styles = {path.relative_to(REPO / "curator") for path in (REPO / "curator" / "tui").rglob("*.tcss")}
    assert styles and shipped == styles


def test_scan_and_a_headless_review_run_with_the_packaged_policy(installed: tuple[Path, Path],
                                                                 tmp_path: Path) -> None:
    python, _ = installed
    model = _candidate(tmp_path / "tiny")
    scanned = _curator(python, "scan", str(model), "--json", cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    verdicts = {f["path"]: f["verdict"] for f in json.loads(scanned.stdout)["files"]}
    assert verdicts["model.safetensors"] == "clean"
    reviewed = _curator(python, "review", str(model), "--headless", "--only", "fetch,scan", "--json",
                        cwd=tmp_path)
    assert reviewed.returncode in (0, 1), reviewed.stderr
    document = json.loads(reviewed.stdout)
    assert document["stages"]["fetch"]["status"] == "passed"
    assert document["stages"]["scan"]["status"] == "passed"
    assert {f["path"] for f in document["files"]} == {"config.json", "model.safetensors", "README.md"}


def test_an_override_folder_still_wins(installed: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = installed
    policy = tmp_path / "team-policy"
    shutil.copytree(REPO / "curator" / "checklists", policy)
    text = (policy / "default.yaml").read_text().replace("allowed_formats: any", "allowed_formats: [json]")
    (policy / "default.yaml").write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(python), "-m", "curator", "scan", str(_candidate(tmp_path / "m")), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
                          env={**env, "CURATOR_CHECKLISTS": str(policy)})
    assert done.returncode == 1, done.stderr
    verdicts = {f["path"]: f["verdict"] for f in json.loads(done.stdout)["files"]}
    assert verdicts["model.safetensors"] == "blocked"


def test_every_requirement_of_the_wheel_is_met_by_the_lock(installed: tuple[Path, Path]) -> None:
    _, wheel = installed
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(meta).decode().splitlines()
    pins = locked()
    checked = 0
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        extras = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux",
                  "platform_machine": "x86_64"}
        if requirement.marker and not any(requirement.marker.evaluate({**extras, "extra": e})
                                          for e in ("", "dev", "eval")):
            continue
        name = canonical(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run 'make lock'"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {name}=={pins[name]}, the wheel asks for {requirement}: run 'make lock'"
        checked += 1
    assert checked > 20


def test_the_virtualenv_is_exactly_the_lock() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "check_lock.py")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
