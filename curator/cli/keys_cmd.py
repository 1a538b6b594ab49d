"""`curator keys init|show`: the curator's signing key and identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.text import markup

keys_app = typer.Typer(help="The curator's signing key (ECDSA P-256) and identity.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

KeyDir = Annotated[Path | None, typer.Option(
    "--key-dir", help="Key folder (default: the workspace's keys/).")]


@keys_app.command("init")
def init(
    name: Annotated[str, typer.Option(help="Your full name, as it appears in signed decisions.")],
    email: Annotated[str, typer.Option(help="Your e-mail, as it appears in signed decisions.")],
    key_dir: KeyDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Create a new signing key (0600) and record who you are; never overwrites a key."""
    from curator.attest.enrol import create_curator_key

    ws = workspace()
    folder = key_dir or ws.keys_dir
    identity, _ = create_curator_key(ws.keys_dir, name, email, folder)
    if as_json:
        emit_json({**identity.to_dict(), "key_dir": str(folder)})
        return
    say(f"[green]✔[/] key for [bold]{markup(identity.label)}[/] in {markup(folder)}")
    say(f"  fingerprint {identity.keyid}")
    say("  not trusted by any gate yet: add the entry 'curator keys show' prints to the team's "
        "checklists/curators.yaml, then the team signs it into the root with 'curator state rotate' "
        "(or 'curator state init' for a new team)")


@keys_app.command("show")
def show(
    key_dir: KeyDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Print the public key and its fingerprint, as a ready curators.yaml entry."""
    from curator.attest.keys import fingerprint, public_key_of, read_identity

    folder = key_dir or workspace().keys_dir
    identity = read_identity(folder)
    pem = public_key_of(folder)
    if fingerprint(pem) != identity.keyid:
        from curator.core.errors import IntegrityError

        raise IntegrityError(f"{folder} holds a public key that is not the one its identity names",
                             "restore the key folder from a backup")
    if as_json:
        emit_json({**identity.to_dict(), "public_key": pem})
        return
    say(f"{markup(identity.label)}, fingerprint {identity.keyid}")
    indented = "".join(f"      {line}\n" for line in pem.strip().splitlines())
    # JSON strings are YAML scalars: a name with ':' or '#' stays one value
    typer.echo(f"  - name: {json.dumps(identity.name)}\n    email: {json.dumps(identity.email)}\n"
               f"    public_key: |\n{indented}", nl=False)
