"""The shipped Sigstore trust root: built from the sigstore package, checked, rebuilt, required."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from curator.core.errors import UsageError
from curator.stages.signature.check import CheckOptions, check_signature
from curator.stages.signature.refresh_trust_root import main
from curator.stages.signature.trust import against_anchors
from curator.stages.signature.trust_config import MEDIA_TYPE, build_trust_config, check_trust_config
from curator.stages.signature.verify import Anchor
from tests.signature.helpers import IDENTITY, ISSUER, TRUST_CONFIG, cli, sigstore_args


def test_shipped_trust_config_is_what_the_sigstore_package_carries() -> None:
    shipped = json.loads(TRUST_CONFIG.read_text())
    assert shipped == build_trust_config()
    assert shipped["mediaType"] == MEDIA_TYPE
    assert check_trust_config(TRUST_CONFIG).startswith("sha256:")
    assert main(["--check", "--output", str(TRUST_CONFIG)]) == 0


def test_rebuild_writes_a_usable_file_and_check_spots_drift(tmp_path: Path) -> None:
    target = tmp_path / "trust.json"
    assert main(["--check", "--output", str(target)]) == 1
    assert main(["--output", str(target)]) == 0
    assert check_trust_config(target) and main(["--check", "--output", str(target)]) == 0
    source = tmp_path / "newer"
    source.mkdir()
    root = build_trust_config()
    root["trustedRoot"]["tlogs"] = root["trustedRoot"]["tlogs"][:1]
    (source / "trusted_root.json").write_text(json.dumps(root["trustedRoot"]))
    (source / "signing_config.v0.2.json").write_text(json.dumps(root["signingConfig"]))
    assert main(["--check", "--from", str(source), "--output", str(target)]) == 1
    assert main(["--from", str(source), "--output", str(target)]) == 0
    assert len(json.loads(target.read_text())["trustedRoot"]["tlogs"]) == 1


def test_a_broken_trust_root_is_refused_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "trust.json"
    broken.write_text('{"mediaType": "nope"}')
    with pytest.raises(UsageError, match=r"trust\.json"):
        check_trust_config(broken)
    with pytest.raises(UsageError, match="missing"):
        check_trust_config(tmp_path / "absent.json")


def test_cli_with_a_missing_trust_root_is_an_operational_error(signed: Path, tmp_path: Path) -> None:
    run = cli("signature", signed / "v1.1.0-sigstore", *sigstore_args(), "--trust-config",
              tmp_path / "absent.json")
    assert run.code == 2 and "absent.json" in run.err and run.err.count("\n") == 1


def test_verification_opens_no_network_connection(signed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An air-gapped machine: any connect or DNS lookup would raise here instead of hanging."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("network used during verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    anchor = Anchor("sigstore", identity=IDENTITY, issuer=ISSUER)
    for name in ("v0.3.1-sigstore", "v1.1.0-sigstore"):
        report = check_signature(signed / name, signed / name / "model.sig", [anchor], TRUST_CONFIG,
                                 lambda s: against_anchors([anchor], s, "model"), CheckOptions())
        assert report.status == "verified", report.error
