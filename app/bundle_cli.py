"""`waypost keys` and `waypost bundle`: publisher keys, and installing bundles on a kiosk."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import click

from . import signing
from .console import fail
from .kiosk import ImportRefused, Kiosk, import_bundle, rollback
from .trust import VerifyError, verify_bundle


def today():
    """Return today's date in UTC, the calendar expiry dates are kept in."""
    return datetime.now(UTC).date()


def kiosk_from_settings() -> Kiosk:
    """Return this machine's kiosk, as its settings describe it."""
    from . import create_app

    app = create_app()
    return Kiosk.from_config(app.config, app.instance_path)


@click.group()
def keys() -> None:
    """Publisher keys: make a key pair, trust a publisher."""


@keys.command("new")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the two key files in.")  # fmt: skip
def keys_new(name: str, folder: Path) -> None:
    """Make a new publisher key pair: NAME.key (secret) and NAME.pub (public).

    Sign bundles with the .key file and keep it private. Give the .pub file
    to every kiosk that should accept your bundles.

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
    click.echo(f"public key {public} (key id {key.key_id}; copy it to each kiosk)")


@keys.command("trust")
@click.argument("public_key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def keys_trust(public_key: Path) -> None:
    """Trust a publisher: bundles signed with its key can be installed here.

    \b
    Example:
      waypost keys trust /media/usb/my-ngo.pub
    """
    try:
        key = signing.load_public(public_key)
    except signing.KeyFileError as exc:
        fail(str(exc))
    kiosk = kiosk_from_settings()
    kiosk.trusted_keys.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(public_key, kiosk.trusted_keys / f"{key.key_id}.pub")
    click.echo(f"trusting {key.name} (key id {key.key_id}) in {kiosk.trusted_keys}")


@keys.command("list")
def keys_list() -> None:
    """List the publisher keys this kiosk trusts.

    \b
    Example:
      waypost keys list
    """
    kiosk = kiosk_from_settings()
    try:
        trusted = kiosk.trusted()
    except signing.KeyFileError as exc:
        fail(str(exc))
    if not trusted:
        click.echo(f"no trusted keys in {kiosk.trusted_keys}")
    for key in trusted.values():
        click.echo(f"{key.key_id}  {key.name}")


@click.group("bundle")
def bundle_group() -> None:
    """Check, install and roll back bundles on this kiosk."""


@bundle_group.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Public key file or folder to trust (default: this kiosk's trusted keys).")  # fmt: skip
def bundle_verify(file: Path, trust_paths: tuple[Path, ...]) -> None:
    """Check a bundle's signature, rows and expiry, and give one verdict.

    \b
    Example:
      waypost bundle verify /media/usb/guidance.bundle --trust my-ngo.pub
    """
    try:
        trusted = signing.load_trusted(list(trust_paths)) if trust_paths else kiosk_from_settings().trusted()
        info = verify_bundle(file, trusted, today())
    except (signing.KeyFileError, VerifyError) as exc:
        fail(f"rejected: {exc}")
    click.echo(
        f"ok: {file} is version {info.version}, signed by {info.publisher} ({info.key_id}), "
        f"expires {info.expires}, digest {info.content_digest}"
    )


@bundle_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--allow-downgrade", is_flag=True, help="Install even if it is not newer than the live bundle.")
def bundle_import(file: Path, allow_downgrade: bool) -> None:
    """Verify a bundle and make it the live one; keep the old one for rollback.

    A running server switches to it at once. If anything is wrong with the
    file, nothing changes and the kiosk keeps serving what it served.

    \b
    Example:
      waypost bundle import /media/usb/guidance.bundle
    """
    kiosk = kiosk_from_settings()
    try:
        info = import_bundle(kiosk, file, today(), allow_downgrade=allow_downgrade)
    except (ImportRefused, VerifyError, signing.KeyFileError) as exc:
        fail(f"not installed: {exc}")
    except OSError as exc:
        fail(f"not installed: {exc.strerror or exc} ({exc.filename or file})")
    if info is None:
        click.echo(f"{file} is the live bundle already; nothing to do")
    else:
        click.echo(f"installed version {info.version} from {info.publisher} (digest {info.content_digest[:12]})")


@bundle_group.command("rollback")
def bundle_rollback() -> None:
    """Put the previous bundle back live.

    \b
    Example:
      waypost bundle rollback
    """
    try:
        info = rollback(kiosk_from_settings(), today())
    except (ImportRefused, signing.KeyFileError) as exc:
        fail(f"not rolled back: {exc}")
    click.echo(f"rolled back to version {info.version} (digest {info.content_digest[:12]})")


@bundle_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and dashboards.")
def bundle_status(as_json: bool) -> None:
    """Show the live bundle's version, publisher, expiry and the kept bundles.

    \b
    Example:
      waypost bundle status
    """
    from .kiosk import status

    kiosk = kiosk_from_settings()
    try:
        report = status(kiosk, today())
    except signing.KeyFileError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    live = report["live"]
    if live is None:
        click.echo(f"no usable bundle at {kiosk.live}")
    else:
        click.echo(f"live bundle  {kiosk.live}")
        click.echo(f"version      {live['version']}" + ("" if live["signed"] else " (unsigned demo bundle)"))
        click.echo(f"publisher    {live['publisher'] or live['key_id'] or '-'}")
        click.echo(f"expires      {live['expires'] or '-'}" + (" (EXPIRED)" if live["expired"] else ""))
        click.echo(f"digest       {live['content_digest']}")
        click.echo(f"built        {live['built_at']}")
    click.echo(f"kept for rollback: {len(report['previous'])}")
    for name in report["previous"]:
        click.echo(f"  {name}")


@click.command("publish")
@click.argument("bundle_file", metavar="BUNDLE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "secret_key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The secret key the bundle was signed with; it signs the manifest too.")  # fmt: skip
def publish_command(bundle_file: Path, outdir: Path, secret_key: Path) -> None:
    """Write a signed bundle as static files that kiosks sync from.

    OUTDIR can be served by any web server or CDN, or copied to a USB stick.
    Publish each new version into the same folder: only what changed is
    added, and kiosks download only that.

    \b
    Example:
      waypost publish guidance.bundle /var/www/waypost-hub --key my-ngo.key
    """
    from .bundle import BundleError
    from .publish import PublishError, publish

    try:
        secret, key_id = signing.load_secret(secret_key)
        counts = publish(bundle_file, outdir, secret, key_id, today())
    except (signing.KeyFileError, VerifyError, PublishError, BundleError) as exc:
        fail(f"not published: {exc}")
    except OSError as exc:
        fail(f"not published: cannot write {exc.filename or outdir}: {exc.strerror or exc}")
    click.echo(
        f"published version {counts['version']} to {outdir}: "
        f"{counts['objects']} objects, {counts['written']} of them new"
    )


@click.command("sync")
@click.argument("where", metavar="URL_OR_FOLDER")
@click.option("--allow-downgrade", is_flag=True, help="Install even if it is not newer than the live bundle.")
def sync_command(where: str, allow_downgrade: bool) -> None:
    """Update this kiosk from a published folder, on the web or on a USB stick.

    Downloads only what changed since the live bundle, checks every piece,
    and installs the result only once the publisher's signature matches. If
    it is interrupted, run it again: what was downloaded is kept.

    \b
    Example:
      waypost sync https://hub.example.org/waypost/
      waypost sync /media/usb/waypost-hub
    """
    from .sync import SyncError, sync

    kiosk = kiosk_from_settings()
    bar = None

    def on_plan(objects: int, size: int) -> None:
        nonlocal bar
        click.echo(f"downloading {objects} pieces, {_size(size)}")
        bar = click.progressbar(length=size, label="Downloading", show_pos=False)

    def progress(received: int) -> None:
        if bar is not None:
            bar.update(received)

    try:
        info = sync(kiosk, where, today(), allow_downgrade=allow_downgrade, on_plan=on_plan, progress=progress)
    except SyncError as exc:
        fail(f"not updated: {exc}")
    finally:
        if bar is not None:
            bar.render_finish()
    if info is None:
        click.echo("already up to date")
    else:
        click.echo(f"installed version {info.version} from {info.publisher} (digest {info.content_digest[:12]})")


def _size(n: int) -> str:
    return f"{n} bytes" if n < 10 * 1024 else f"{n / 1024:.0f} KB" if n < 10 * 1024 * 1024 else f"{n >> 20} MB"


@click.command("export-static")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--bundle", "bundle_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Bundle to export (default: the live bundle).")  # fmt: skip
def export_static_command(outdir: Path, bundle_path: Path | None) -> None:
    """Write the whole site as static files for any web host or CDN.

    Every language, topic, article and glossary page, the offline packs, the
    stylesheet and the service worker, each text file with .gz and .br copies
    beside it. Search needs the Waypost server; the exported search page says
    so and points to the topics.

    \b
    Example:
      waypost export-static /var/www/waypost
    """
    from . import create_app
    from .bundle import BundleError
    from .export import ExportError, export_site

    app = create_app({"BUNDLE": str(bundle_path)} if bundle_path else None)
    try:
        counts = export_site(app, outdir)
    except (ExportError, BundleError) as exc:
        fail(f"not exported: {exc}")
    except OSError as exc:
        fail(f"not exported: cannot write {exc.filename or outdir}: {exc.strerror or exc}")
    click.echo(f"exported {counts['pages']} files to {outdir} ({counts['bytes'] // 1024} KB with compressed copies)")
