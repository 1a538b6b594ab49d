"""`curator ledger verify` on the team ledger: the same JSON and exit codes as on SQLite,
with the server chosen by $CURATOR_LEDGER_URL or by ledger.url in the policy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import yaml

from curator.core.models import Candidate, StageResult, Status
from curator.core.policy import checklists_dir
from curator.ledger.postgres import PostgresLedger
from tests.ledger.pgserver import free_port


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CURATOR_LEDGER_URL"}
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env={**base, **env}, timeout=120, check=False)


def _fill(url: str) -> None:
    led = PostgresLedger(url)
    review = led.create_review(Candidate("acme/m", "main", "hub", commit="f" * 40))
    led.save_result(review.id, StageResult("fetch", Status.PASSED))
    led.append("quarterly_run", {"run_id": "hello"}, review.id)
    led.close()


def test_verify_reads_the_server_named_by_the_environment(pg_url: str) -> None:
    _fill(pg_url)
    done = cli("ledger", "verify", "--json", CURATOR_LEDGER_URL=pg_url)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # the whole of stdout is one document
    assert doc["ok"] is True and doc["rows"] == 3 and doc["first_bad"] is None
    assert not (Path(os.environ["CURATOR_HOME"]) / "ledger.db").exists()


def test_verify_exits_one_on_a_tampered_team_ledger(pg_url: str) -> None:
    _fill(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("""UPDATE events SET payload = '{"text": "HELLO"}' WHERE seq = 3""")
    done = cli("ledger", "verify", "--json", CURATOR_LEDGER_URL=pg_url)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and doc["first_bad"] == 3 and "edited" in doc["reason"]
    human = cli("ledger", "verify", CURATOR_LEDGER_URL=pg_url)
    assert human.returncode == 1 and human.stdout == "" and "row 3" in human.stderr


def test_the_policy_file_can_name_the_team_ledger(pg_url: str, tmp_path: Path) -> None:
    _fill(pg_url)
    checklists = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), checklists)
    default = checklists / "default.yaml"
    policy = yaml.safe_load(default.read_text())
    assert policy["ledger"] == {"url": ""}  # shipped: the workspace's SQLite
    policy["ledger"]["url"] = pg_url
    default.write_text(yaml.safe_dump(policy))
    done = cli("ledger", "verify", "--json", CURATOR_CHECKLISTS=str(checklists))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 3


def test_an_unreachable_server_exits_two_with_one_line() -> None:
    url = f"postgresql://curator:s3cret@127.0.0.1:{free_port()}/team"
    done = cli("ledger", "verify", "--json", CURATOR_LEDGER_URL=url)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the ledger" in lines[0] and "s3cret" not in lines[0]


def test_a_url_of_another_kind_exits_two() -> None:
    done = cli("ledger", "verify", CURATOR_LEDGER_URL="mysql://db/ledger")
    assert done.returncode == 2 and "not a postgresql:// URL" in done.stderr
