"""`waypost bundle`, `publish` and `sync`: install and update on a kiosk (`keys` is in keys.py)."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import click

from app import kiosk_state, settings
from app.cli.console import count, fail
from app.distribution import signing
from app.distribution.kiosk import ImportRefused, Kiosk, import_bundle, rollback
from app.distribution.root import Root
from app.refusal import VerifyError, kiosk_hint, printable


def today() -> date:
    """Return today's date in UTC, the calendar expiry dates are kept in."""
    return kiosk_state.now().date()


def kiosk_from_settings() -> Kiosk:
    """Return this machine's kiosk, as its settings describe it (without building the web app)."""
    config = settings.resolve()
    return Kiosk.from_config(config, settings.instance_path())


def trusted_root(kiosk: Kiosk) -> Root | None:
    try:
        return kiosk.root()
    except VerifyError as exc:
        fail(f"this kiosk's trust root is damaged ({exc}); run `waypost keys trust root.json --replace`")


@click.group("bundle")
def bundle_group() -> None:
    """Check, install and roll back bundles on this kiosk."""


@bundle_group.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--root",
    "root_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Root file to check against (default: this kiosk's trusted root).",
)
def bundle_verify(file: Path, root_file: Path | None) -> None:
    """Check a signed bundle's signature, bytes, rows and expiry, and give one verdict.

    \b
    Example:
      waypost bundle verify /media/usb/guidance.bundle --root /media/usb/root.json
    """
    from app.distribution.root import load_root
    from app.distribution.trust import verify_bundle

    try:
        root = (
            load_root(root_file.read_bytes(), name=str(root_file)) if root_file else trusted_root(kiosk_from_settings())
        )
        with tempfile.TemporaryDirectory(prefix="waypost-verify-") as folder:
            info = verify_bundle(file, root, today(), Path(folder) / "bundle.sqlite")
    except VerifyError as exc:
        fail(f"rejected: {exc}{kiosk_hint(exc)}")
    assert root is not None
    name = root.keys[info.key_id].key.name
    click.echo(
        f"ok: {file} is version {info.version}, signed by {printable(name)} ({info.key_id}) for "
        f"'{info.publisher}', expires {info.expires}, digest {info.content_digest}"
    )


@bundle_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--allow-downgrade", is_flag=True, help="Install even if it is not newer than the live bundle.")
def bundle_import(file: Path, allow_downgrade: bool) -> None:
    """Verify a signed bundle and make it the live one; keep the old one for rollback.

    A running server switches to it at once. If anything is wrong with the
    file, nothing changes and the kiosk keeps serving what it served.

    \b
    Example:
      waypost bundle import /media/usb/guidance.bundle
    """
    kiosk = kiosk_from_settings()
    try:
        info = import_bundle(kiosk, file, today(), allow_downgrade=allow_downgrade)
    except (ImportRefused, VerifyError) as exc:
        fail(f"not installed: {exc}{kiosk_hint(exc)}")
    except OSError as exc:
        fail(f"not installed: {exc.strerror or exc} ({exc.filename or file})")
    if info is None:
        click.echo(f"{file} is the live bundle already; nothing to do")
        return
    click.echo(f"installed version {info.version} from '{info.publisher}' (digest {info.content_digest[:12]})")


@bundle_group.command("rollback")
def bundle_rollback() -> None:
    """Put the previous bundle back live (the newest kept one still signed by a trusted key).

    \b
    Example:
      waypost bundle rollback
    """
    kiosk = kiosk_from_settings()
    try:
        info = rollback(kiosk, today())
    except (ImportRefused, VerifyError) as exc:
        fail(f"not rolled back: {exc}")
    click.echo(f"rolled back to version {info.version} (digest {info.content_digest[:12]})")


@bundle_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and dashboards.")
def bundle_status(as_json: bool) -> None:
    """Show the live bundle's version, publisher, expiry, freshness and the kept bundles.

    \b
    Example:
      waypost bundle status
    """
    from app.distribution.kiosk import status

    kiosk = kiosk_from_settings()
    report = status(kiosk, today())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    live = report["live"]
    if live is None:
        click.echo(f"no usable bundle at {kiosk.live}")
    else:
        click.echo(f"live bundle  {kiosk.live}")
        click.echo(f"version      {live['version']}" + ("" if live["signed"] else " (unsigned demo bundle)"))
        publisher = live["publisher_name"] or live["publisher"] or "-"
        click.echo(
            f"publisher    {printable(publisher)}"
            + ("" if live["trusted"] or not live["signed"] else " (KEY NO LONGER TRUSTED)")
        )
        click.echo(f"expires      {live['expires'] or '-'}" + (" (EXPIRED)" if live["expired"] else ""))
        click.echo(f"digest       {live['content_digest']}")
        click.echo(f"built        {live['built_at']}")
    click.echo(f"confirmed    {report['confirmed_on'] or '-'}")
    if report["last"]:
        last = report["last"]
        click.echo(
            f"last update  {last['at']} {last['action']}: {'ok' if last['ok'] else 'refused'}, "
            f"{printable(last['message'], 200)}"
        )
    click.echo(f"kept for rollback: {len(report['previous'])}")
    for name in report["previous"]:
        click.echo(f"  {name}")


@click.command("publish")
@click.argument("paths", metavar="[BUNDLE] OUTDIR", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--key",
    "secret_key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Secret key that signs the manifest and the timestamp.",
)
@click.option(
    "--root",
    "root_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your current root file; the hub carries it so kiosks follow key changes.",
)
@click.option("--refresh", is_flag=True, help="Only re-sign the hub's timestamp (no BUNDLE): run it every few days.")
@click.option(
    "--timestamp-days",
    type=click.IntRange(1, 60),
    default=7,
    show_default=True,
    help="Days the hub's timestamp stays valid; a kiosk refuses a hub past it.",
)
@click.option("--allow-downgrade", is_flag=True, help="Publish a version not newer than the hub's.")
def publish_command(
    paths: tuple[Path, ...],
    secret_key: Path,
    root_file: Path,
    refresh: bool,
    timestamp_days: int,
    allow_downgrade: bool,
) -> None:
    """Write a signed bundle as static files that kiosks sync from, or refresh the hub's timestamp.

    OUTDIR can be served by any web server or CDN, or copied to a USB stick.
    Publish each new version into the same folder: only what changed is
    added, and kiosks download only that. Refresh the timestamp at least
    every --timestamp-days (a weekly cron job), or kiosks stop trusting the hub.

    \b
    Example:
      waypost publish guidance.bundle /var/www/waypost-hub --key my-ngo.key --root root.json
      waypost publish --refresh /var/www/waypost-hub --key my-ngo.key --root root.json
    """
    from app.distribution.publish import PublishError, publish, write_roots, write_timestamp
    from app.distribution.root import load_root

    if len(paths) != (1 if refresh else 2):
        fail("give BUNDLE and OUTDIR to publish, or --refresh and OUTDIR alone to re-sign the timestamp")
    bundle_file, outdir = (None, paths[0]) if refresh else (paths[0], paths[1])
    try:
        secret, key_id = signing.load_secret(secret_key)
        root = load_root(root_file.read_bytes(), name=str(root_file))
        if bundle_file is None:
            write_roots(outdir, root)
            expires = write_timestamp(outdir, secret, key_id, root, today(), timestamp_days)
            click.echo(f"refreshed {outdir}: its timestamp is valid until {expires}")
            return
        counts = publish(
            bundle_file,
            outdir,
            secret,
            key_id,
            root,
            today(),
            timestamp_days=timestamp_days,
            allow_downgrade=allow_downgrade,
        )
    except (signing.KeyFileError, VerifyError, PublishError) as exc:
        fail(f"not published: {exc}")
    except OSError as exc:
        fail(f"not published: cannot write {exc.filename or outdir}: {exc.strerror or exc}")
    click.echo(
        f"published version {counts['version']} to {outdir}: {count(counts['objects'], 'object')}, "
        f"{counts['written']} of them new; timestamp valid for {count(timestamp_days, 'day')}"
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
    from app.distribution.sync import SyncError, sync

    config = settings.resolve()
    kiosk = Kiosk.from_config(config, settings.instance_path())
    bar = None

    def on_plan(objects: int, size: int) -> None:
        nonlocal bar
        click.echo(f"downloading {count(objects, 'piece')}, {_size(size)}")
        bar = click.progressbar(length=size, label="Downloading", show_pos=False)

    def progress(received: int) -> None:
        if bar is not None:
            bar.update(received)

    try:
        info = sync(
            kiosk,
            where,
            today(),
            allow_downgrade=allow_downgrade,
            on_plan=on_plan,
            progress=progress,
            deadline=int(config["SYNC_DEADLINE_MINUTES"]) * 60,
        )
    except SyncError as exc:
        fail(f"not updated: {exc}")
    finally:
        if bar is not None:
            bar.render_finish()
    if info is None:
        click.echo("already up to date")
    else:
        click.echo(f"installed version {info.version} from '{info.publisher}' (digest {info.content_digest[:12]})")


def _size(n: int) -> str:
    return f"{n} bytes" if n < 10 * 1024 else f"{n / 1024:.0f} KB" if n < 10 * 1024 * 1024 else f"{n >> 20} MB"


@click.command("export-static")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Bundle to export (default: the live bundle).",
)
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
    from app.bundle.read import BundleError
    from app.web import create_app
    from app.web.export import ExportError, export_site

    app = create_app({"BUNDLE": str(bundle_path)} if bundle_path else None)
    try:
        counts = export_site(app, outdir)
    except (ExportError, BundleError) as exc:
        fail(f"not exported: {exc}")
    except OSError as exc:
        fail(f"not exported: cannot write {exc.filename or outdir}: {exc.strerror or exc}")
    click.echo(
        f"exported {count(counts['pages'], 'file')} to {outdir} ({counts['bytes'] // 1024} KB with compressed copies)"
    )
