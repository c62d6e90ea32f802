"""`waypost root`: the publisher's trust root, made, extended, rotated and revoked.

Every command that changes a root writes the next version, signed by the
root keys given with --sign; kiosks accept it only if enough keys of the
version they trust signed it (see root.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from nacl.signing import SigningKey

from app import fsutil, kiosk_state
from app.cli.console import fail
from app.distribution import signing
from app.distribution.root import ANY, ROLES, Root, add_signatures, edit_root, load_root, make_root, signed_fields
from app.refusal import VerifyError, printable


def _secrets(paths: tuple[Path, ...]) -> list[SigningKey]:
    try:
        return [signing.load_secret(p)[0] for p in paths]
    except signing.KeyFileError as exc:
        fail(str(exc))


def _read(path: Path) -> Root:
    try:
        return load_root(path.read_bytes(), name=str(path))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except VerifyError as exc:
        fail(str(exc))


def _write(data: bytes, out: Path, previous: Root | None = None) -> Root:
    """Check the new root as a kiosk would (it must follow `previous`), then write it."""
    try:
        root = load_root(data, previous, name=str(out))
    except VerifyError as exc:
        fail(f"not written: {exc}")
    fsutil.atomic_write(out, data)
    return root


def _list(value: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    if not items:
        raise click.BadParameter("give at least one value, or * for any")
    return items


def _roles(value: str) -> list[str]:
    roles = _list(value)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise click.BadParameter(f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return roles


# The root keys that sign a change: each command that changes a root takes them the same way.
SIGN = click.option(
    "--sign",
    "signers",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A current root key (repeatable).",
)


@click.group("root")
def root_group() -> None:
    """The publisher's trust root: which keys kiosks accept, for what, until when."""


@root_group.command("init")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "secret_key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your secret key: it gets every role (root, bundle, timestamp).",
)
@click.option("--publisher", required=True, metavar="ID", help="The publisher id your bundles are built for.")
@click.option("--languages", default=ANY, show_default=True, help="Languages the key may publish, e.g. ar,fa.")
@click.option("--expires-in", type=click.IntRange(30, 3650), default=730, show_default=True, metavar="DAYS")
def root_init(out: Path, secret_key: Path, publisher: str, languages: str, expires_in: int) -> None:
    """Make the first root: one key that may do everything for one publisher.

    Give OUT (root.json) to every kiosk, with `waypost keys trust root.json`.

    \b
    Example:
      waypost root init root.json --key my-ngo.key --publisher my-ngo
    """
    if out.exists():
        fail(f"{out} exists already; change a root with `waypost root add-key` or `revoke-key`")
    (secret,) = _secrets((secret_key,))
    name = signing.key_name(secret_key) or secret_key.stem
    expires = kiosk_state.now().date() + timedelta(days=expires_in)
    row = {
        "public": secret.verify_key,
        "name": name,
        "roles": ROLES,
        "publishers": [publisher],
        "languages": _list(languages),
    }
    root = _write(make_root(1, expires, [row], [secret]), out)
    kid = next(iter(root.keys))
    click.echo(f"wrote {out}: root version 1, key {kid} for '{printable(publisher)}', expires {root.expires}")
    click.echo("Tell each kiosk operator this key id, so they can check it when they trust the file.")


@root_group.command("add-key")
@click.argument("root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public", "public_key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--roles", default="bundle,timestamp", show_default=True, help=f"Comma-separated: {', '.join(ROLES)}.")
@click.option("--publisher", "publishers", default=ANY, show_default=True, help="Publisher ids it may sign for.")
@click.option("--languages", default=ANY, show_default=True, help="Languages it may publish.")
@SIGN
@click.option("--threshold", type=click.IntRange(1, 16), help="Root signatures every later root needs.")
def root_add_key(
    root_file: Path,
    public_key: Path,
    roles: str,
    publishers: str,
    languages: str,
    signers: tuple[Path, ...],
    threshold: int | None,
) -> None:
    """Add (or replace) a key in the root, as its next version; rotate a root key this way.

    \b
    Example:
      waypost root add-key root.json --public new-laptop.pub --roles root,bundle,timestamp --sign my-ngo.key
    """
    current = _read(root_file)
    try:
        key = signing.load_public(public_key)
    except signing.KeyFileError as exc:
        fail(str(exc))
    fields = signed_fields(current)
    keys = dict(fields["keys"])
    keys[key.key_id] = {
        "public": _b64(bytes(key.verify_key)),
        "name": key.name,
        "roles": sorted(_roles(roles)),
        "publishers": sorted(_list(publishers)),
        "languages": sorted(_list(languages)),
    }
    changes: dict[str, object] = {"keys": keys, "revoked": [k for k in fields["revoked"] if k != key.key_id]}
    if threshold:
        changes["threshold"] = threshold
    root = _write(edit_root(current, _secrets(signers), **changes), root_file, current)
    click.echo(f"wrote {root_file}: root version {root.version} adds key {key.key_id} ({printable(key.name)})")


@root_group.command("revoke-key")
@click.argument("root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("key_id")
@SIGN
def root_revoke_key(root_file: Path, key_id: str, signers: tuple[Path, ...]) -> None:
    """Revoke a key in the root's next version: kiosks stop serving what only it signed.

    \b
    Example:
      waypost root revoke-key root.json 3f2a9c0d11e4b7a8 --sign my-ngo.key
    """
    current = _read(root_file)
    fields = signed_fields(current)
    if key_id not in fields["keys"] and key_id not in fields["revoked"]:
        fail(f"{root_file} has no key {printable(key_id, 20)}; `waypost root show {root_file}` lists them")
    keys = {k: v for k, v in fields["keys"].items() if k != key_id}
    revoked = sorted({*fields["revoked"], key_id})
    root = _write(edit_root(current, _secrets(signers), keys=keys, revoked=revoked), root_file, current)
    click.echo(f"wrote {root_file}: root version {root.version} revokes key {key_id}")


@root_group.command("sign")
@click.argument("root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "signers",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A root key to sign with.",
)
def root_sign(root_file: Path, signers: tuple[Path, ...]) -> None:
    """Add signatures to a root, when its threshold needs more than one root key.

    \b
    Example:
      waypost root sign root.json --key second-trustee.key
    """
    data = add_signatures(root_file.read_bytes(), _secrets(signers))
    fsutil.atomic_write(root_file, data)
    click.echo(f"signed {root_file}")


@root_group.command("show")
@click.argument("root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def root_show(root_file: Path) -> None:
    """Show a root's version, expiry, keys, roles and revocations.

    \b
    Example:
      waypost root show root.json
    """
    root = _read(root_file)
    click.echo(f"root version {root.version}, expires {root.expires}, threshold {root.threshold}")
    for kid, entry in sorted(root.keys.items()):
        click.echo(
            f"{kid}  {printable(entry.key.name):<24} {','.join(sorted(entry.roles)):<22} "
            f"publishers {','.join(entry.publishers)}  languages {','.join(entry.languages)}"
        )
    for kid in sorted(root.revoked):
        click.echo(f"{kid}  revoked")


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")
