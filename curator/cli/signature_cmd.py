"""`curator signature PATH`: the signature stage alone, anchored by flags instead of publishers.yaml."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curator.cli.app import app, emit_json
from curator.core.errors import UsageError
from curator.core.text import shown

if TYPE_CHECKING:
    from curator.stages.signature.check import SignatureReport


@app.command()
def signature(
    path: Annotated[Path, typer.Argument(help="The model folder the signature covers.")],
    signature_file: Annotated[Path | None, typer.Option(
        "--signature", help="The signature file (default: PATH/model.sig).")] = None,
    identity: Annotated[str | None, typer.Option(
        help="Sigstore: the identity expected to have signed (e.g. an email).")] = None,
    issuer: Annotated[str | None, typer.Option(help="Sigstore: the OIDC issuer of that identity.")] = None,
    trust_config: Annotated[Path | None, typer.Option(
        "--trust-config", help="Sigstore: trust root (default: the one curator ships).")] = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="EC public key (PEM) the model was signed with.")] = None,
    certificate_chain: Annotated[list[Path] | None, typer.Option(
        "--certificate-chain", help="CA certificate(s) (PEM) the signing certificate must chain to.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="Path relative to PATH that needs no signature (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Verify a model folder's OpenSSF model signature offline; exit 1 unless verified."""
    from curator.stages.signature.check import CheckOptions, check_signature
    from curator.stages.signature.trust import against_anchors

    started = time.monotonic()
    if not path.is_dir():
        raise UsageError(f"{path} is not a model folder", "pass the folder that holds the model's files")
    anchors, root = _anchors(identity, issuer, trust_config, public_key, certificate_chain or [])
    # the default signature is not resolved: a link in the folder is refused, not followed
    sig = signature_file.resolve() if signature_file else path.resolve() / "model.sig"
    options = CheckOptions(extra_ignore=tuple(ignore or ()), unsigned_files="fail")
    report = check_signature(path.resolve(), sig, anchors, root,
                             lambda signer: against_anchors(anchors, signer, path.resolve().name), options)
    document = _document(report, time.monotonic() - started)
    if as_json:
        emit_json(document)
    else:
        _say(report, sig)
    raise typer.Exit(0 if report.status == "verified" else 1)


def _anchors(identity: str | None, issuer: str | None, trust_config: Path | None,
             public_key: Path | None, chain: list[Path]) -> tuple[list[Any], Path | None]:
    """Exactly one way of verifying, as the CLI contract says; anything else is a usage error."""
    from curator.core.policy import checklists_dir
    from curator.stages.signature.trust_config import TRUST_CONFIG_FILE
    from curator.stages.signature.verify import Anchor

    modes = [m for m, given in (("--identity/--issuer", identity or issuer), ("--public-key", public_key),
                                ("--certificate-chain", chain)) if given]
    if len(modes) != 1:
        raise UsageError(f"{'no' if not modes else ' and '.join(modes)} verification method given",
                         "pass exactly one of --identity ID --issuer URL, --public-key PEM, "
                         "--certificate-chain PEM")
    shipped = checklists_dir() / TRUST_CONFIG_FILE
    if trust_config and not identity:
        raise UsageError("--trust-config applies to Sigstore signatures only", "add --identity and --issuer")
    if identity or issuer:
        if not (identity and issuer):
            raise UsageError("--identity and --issuer go together", "pass both, e.g. --identity "
                             "you@example.com --issuer https://github.com/login/oauth")
        return [Anchor("sigstore", identity=identity, issuer=issuer)], trust_config or shipped
    # a Sigstore bundle still verifies against the shipped root, so the mismatch names its signer
    root = shipped if shipped.is_file() else None
    if public_key:
        return [Anchor("key", public_key=public_key)], root
    for ca in chain:
        if not ca.is_file():
            raise UsageError(f"the CA certificate {ca} does not exist", "pass the PEM file of your CA")
    return [Anchor("certificate", certificates=tuple(chain))], root


def _document(report: SignatureReport, seconds: float) -> dict[str, Any]:
    """``signature --json``: status, signer, files[{path, sha256}], error, and the rest of the evidence."""
    files = []
    for row in report.files:
        files.append({"path": row.path, "sha256": row.signed_sha256 or row.manifest_sha256,
                      "state": row.state, "signed_sha256": row.signed_sha256,
                      "actual_sha256": row.manifest_sha256})
    return {
        "status": report.status,
        "signer": report.signer or None,
        "files": files,
        "error": report.error,
        "mode": report.mode,
        "claimed_signer": report.claimed_signer,
        "trust": report.trust.to_dict() if report.trust else None,
        "transparency": report.transparency,
        "ignore_paths": report.ignore_paths,
        "verified_against": report.verified_against,
        "findings": [f.to_dict() for f in report.findings],
        "seconds": round(seconds, 4),
    }


def _say(report: SignatureReport, sig: Path) -> None:
    """A summary on stderr; plain lines, never wrapped, so each message stays one line."""
    from curator.stages.signature.trust import signer_label

    if report.status == "verified":
        log = report.transparency
        when = f" at {log['integrated_time_utc']}" if log and log.get("integrated_time_utc") else ""
        entry = f", Rekor log index {log['log_index']}{when}" if log else ""
        signed = sum(1 for f in report.files if f.state == "match")
        signer = shown(signer_label(report.signer))
        typer.echo(f"✔ verified: {signed} file(s) signed by {signer}{entry}", err=True)
    else:
        typer.echo(f"✘ {report.status}: {shown(report.error or sig.name)}", err=True)
    for finding in report.findings:
        if finding.message != report.error:
            typer.echo(f"  {finding.severity.value}: {shown(finding.message)}", err=True)
