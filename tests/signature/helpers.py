"""Helpers: where the real signed fixtures are, keys and certificates made here, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SIGNED = (REPO / ".." / "shared" / "fixtures" / "signed-models").resolve()
IDENTITY = "stefanb@us.ibm.com"
ISSUER = "https://sigstore.verify.ibm.com/oauth2"
SIGSTORE_FIXTURES = ("v0.3.1-sigstore", "v1.0.0-sigstore", "v1.0.1-sigstore", "v1.1.0-sigstore")
TRUST_CONFIG = REPO / "checklists" / "sigstore-trust-config.json"


@dataclass
class Cli:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def cli(*args: str | Path, env: dict[str, str] | None = None) -> Cli:
    """Run ``curator`` in a fresh process, as a script or CI would."""
    proc = subprocess.run([sys.executable, "-m", "curator", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)
    return Cli(proc.returncode, proc.stdout, proc.stderr)


def sigstore_args(identity: str = IDENTITY, issuer: str = ISSUER) -> list[str]:
    return ["--identity", identity, "--issuer", issuer]


# -- keys and certificates made by the tests ------------------------------------------------
def make_key(path: Path) -> Path:
    """A fresh P-256 key: private PEM at ``path``, public at ``path.with_suffix('.pub')``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.with_suffix(".pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def make_ca_and_leaf(folder: Path, leaf_name: str = "release-signer",
                     ca_name: str = "acme-root") -> dict[str, Path]:
    """A self-signed CA and a code-signing leaf it issued; PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name_x = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca = (x509.CertificateBuilder().subject_name(ca_name_x).issuer_name(ca_name_x)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, leaf_name)]))
            .issuer_name(ca_name_x).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=10))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {"ca": folder / f"{ca_name}.pem", "leaf": folder / f"{leaf_name}.pem",
             "key": folder / f"{leaf_name}.key"}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["leaf"].write_bytes(leaf.public_bytes(pem))
    paths["key"].write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return paths


def make_model(folder: Path, files: dict[str, bytes]) -> Path:
    """A small model folder; contents are plain bytes, never anything that is loaded."""
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def sign_with_key(model: Path, private_key: Path, ignore: list[str] | None = None,
                  shards: int | None = None) -> Path:
    """Sign with model-signing's own signer API; ``model.sig`` lands in the folder."""
    from model_signing import hashing, signing

    config: Any = hashing.Config()  # type: ignore[no-untyped-call]
    if shards:
        config.use_shard_serialization(shard_size=shards)
    config.set_ignored_paths(paths=[*(ignore or []), "model.sig"])
    signing.Config().use_elliptic_key_signer(private_key=private_key).set_hashing_config(config).sign(
        model, model / "model.sig")
    return model / "model.sig"


def sign_with_certificate(model: Path, pki: dict[str, Path], ignore: list[str] | None = None) -> Path:
    from model_signing import hashing, signing

    config = hashing.Config().set_ignored_paths(paths=[*(ignore or []), "model.sig"])
    signing.Config().use_certificate_signer(
        private_key=pki["key"], signing_certificate=pki["leaf"], certificate_chain=[pki["ca"]]
    ).set_hashing_config(config).sign(model, model / "model.sig")
    return model / "model.sig"


# -- a review of a signed folder, through the real fetch and signature stages ---------------
def checklists(folder: Path, publishers: list[dict[str, Any]], **signature: Any) -> Any:
    """A checklists folder like the shipped one, with these publishers and signature settings."""
    import shutil

    import yaml

    from curator.core.policy import Policy

    folder.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load((REPO / "checklists" / "default.yaml").read_text())
    data["stages"] = ["fetch", "signature"]
    data["signature"] = {**data.get("signature", {}), **signature}
    (folder / "default.yaml").write_text(yaml.safe_dump(data))
    (folder / "publishers.yaml").write_text(yaml.safe_dump({"version": 1, "publishers": publishers}))
    shutil.copy(TRUST_CONFIG, folder / "sigstore-trust-config.json")
    return Policy.load(folder)


def review(model: Path, repo_id: str, policy: Any, ledger: Any, work: Path,
           source: str = "hub", endpoint: str | None = None, standings: Any = None,
           curators: frozenset[str] = frozenset()) -> Any:
    """Fetch (hash the folder for real), then run the signature stage; returns its result.

    A hub candidate's files are pinned by the fetch stage's local branch here: the hub
    download is the fetch stage's business, the manifest it hands on is what matters.
    """
    from curator.core.models import Candidate
    from curator.core.pipeline import Pipeline
    from curator.core.stage import ReviewContext
    from curator.stages.fetch import FetchStage
    from curator.stages.signature import SignatureStage

    work.mkdir(parents=True, exist_ok=True)
    local = Candidate(repo_id, "local", "local", path=str(model))
    candidate = local if source == "local" else Candidate(repo_id, "main", "hub", endpoint=endpoint,
                                                          commit="c" * 40)
    opened = ledger.create_review(candidate)
    fetch = Pipeline([FetchStage()]).run(ReviewContext(opened.id, local, model, work, policy))["fetch"]
    ledger.save_result(opened.id, fetch)  # as a session does: later reviews can read what it pinned
    ctx = ReviewContext(opened.id, candidate, model, work, policy, ledger=ledger, curators=curators)
    if standings is not None:
        ctx.standings = standings
    ctx.results["fetch"] = fetch
    return Pipeline([SignatureStage()]).run(ctx)["signature"]


def sigstore_signer(identity: str = IDENTITY, issuer: str = ISSUER) -> dict[str, Any]:
    return {"sigstore": {"identity": identity, "issuer": issuer}}
