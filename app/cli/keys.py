"""`waypost keys`: publisher key pairs, and which publishers this kiosk trusts."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.bundle import kiosk_from_settings, trusted_root
from app.cli.console import fail
from app.distribution import signing
from app.distribution.kiosk import ImportRefused, enforce_trust, revoke_key, trust_root
from app.refusal import Refusal, VerifyError, printable


@click.group()
def keys() -> None:
    """Publisher keys and this kiosk's trust: make a key pair, trust a root, revoke a key."""


@keys.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write the two key files in.",
)
def keys_new(name: str, folder: Path) -> None:
    """Make a new publisher key pair: NAME.key (secret) and NAME.pub (public).

    Sign with the .key file and keep it private, off every kiosk. Put the
    .pub file in your trust root with `waypost root init` or `root add-key`.

    \b
    Example:
      waypost keys new my-ngo
    """
    if not name.replace("-", "").replace("_", "").isalnum():
        fail("a key name may hold only letters, digits, '-' and '_'")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        secret, public = signing.new_keypair(folder / name, name)
    except signing.KeyFileError as exc:
        fail(str(exc))
    key = signing.load_public(public)
    click.echo(f"secret key {secret} (only you can read it; never copy it to a kiosk)")
    click.echo(f"public key {public} (key id {key.key_id})")


@keys.command("trust")
@click.argument("root_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    "replace_root",
    is_flag=True,
    help="Start again from this root even if it does not follow the trusted one (key recovery).",
)
def keys_trust(root_file: Path, replace_root: bool) -> None:
    """Trust a publisher's root file: bundles its keys sign can be installed here.

    The first time, this kiosk trusts the file you give it: check with the
    publisher that the key id printed is theirs. After that, a new root is
    accepted only if the trusted one's keys signed it (sync does this by
    itself), unless you pass --replace.

    \b
    Example:
      waypost keys trust /media/usb/root.json
    """
    if root_file.suffix == ".pub":
        fail(
            f"{root_file} is a single key; this Waypost trusts a signed root file instead. "
            "Ask the publisher for their root.json (see CHANGELOG.md, bundle format 2)"
        )
    try:
        data = root_file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {root_file}: {exc.strerror}")
    kiosk = kiosk_from_settings()
    try:
        root = trust_root(kiosk, data, name=str(root_file), replace_root=replace_root)
        done = enforce_trust(kiosk)
    except (VerifyError, ImportRefused) as exc:
        hint = ""
        if getattr(exc, "kind", None) == Refusal.ROOT_NOT_CHAINED and not replace_root:
            hint = "; if the publisher started a new root (a lost key), check its key id with them and add --replace"
        fail(f"not trusted: {exc}{hint}")
    roots = [k for k in root.keys.values() if "root" in k.roles]
    click.echo(
        f"trusting root version {root.version} (expires {root.expires}), root key "
        + ", ".join(f"{k.key.key_id} ({printable(k.key.name)})" for k in roots)
    )
    if done:
        click.echo(done)


@keys.command("list")
def keys_list() -> None:
    """List the keys this kiosk's root trusts, with their roles and scope.

    \b
    Example:
      waypost keys list
    """
    kiosk = kiosk_from_settings()
    root = trusted_root(kiosk)
    if root is None:
        click.echo(f"no trust root in {kiosk.trust}: run `waypost keys trust root.json`")
        return
    click.echo(f"root version {root.version}, expires {root.expires}, needs {root.threshold} root signature(s)")
    for kid, entry in sorted(root.keys.items()):
        state = "REVOKED" if kid in root.revoked else ",".join(sorted(entry.roles))
        click.echo(
            f"{kid}  {printable(entry.key.name):<24} {state:<22} publishers {','.join(entry.publishers)}"
            f"  languages {','.join(entry.languages)}"
        )
    for kid in sorted(root.revoked - root.keys.keys()):
        click.echo(f"{kid}  (revoked)")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Stop trusting one key on this kiosk, at once, even for the bundle being served.

    If the live bundle was signed by it, the kiosk goes back to the newest
    kept bundle signed by a key it still trusts (or serves nothing, never an
    untrusted or unsigned bundle). Tell the publisher too: their next root
    should revoke the key for every kiosk.

    \b
    Example:
      waypost keys revoke 3f2a9c0d11e4b7a8
    """
    kiosk = kiosk_from_settings()
    try:
        revoke_key(kiosk, key_id)
        done = enforce_trust(kiosk)
    except (ImportRefused, VerifyError) as exc:
        fail(f"not revoked: {exc}")
    click.echo(f"revoked key {key_id} on this kiosk")
    if done:
        click.echo(done)
