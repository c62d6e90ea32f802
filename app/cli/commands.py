"""The `waypost` command: thin wrappers around library calls."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app import __version__, fsutil, kiosk_state, settings
from app.bundle import read as bundle
from app.cli.console import DEFAULT_CONTENT, count, fail

if TYPE_CHECKING:
    from app.content.load import Content

# The authoring code (content loading, rendering, the builder) and the
# distribution code (signing, trust roots, marshmallow schemas) are imported
# by the commands that use them, not here: `waypost serve` starts without them.
# The command groups below are imported when they are named (or for --help).
LAZY_COMMANDS = {
    "i18n": "app.cli.i18n:i18n",
    "keys": "app.cli.keys:keys",
    "root": "app.cli.root:root_group",
    "bundle": "app.cli.bundle:bundle_group",
    "publish": "app.cli.bundle:publish_command",
    "sync": "app.cli.bundle:sync_command",
    "export-static": "app.cli.bundle:export_static_command",
    "kiosk": "app.cli.kiosk:kiosk",
}


class LazyGroup(click.Group):
    """A command group that imports a subcommand's module only when that subcommand runs (or --help lists it)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


def report(content: Content) -> None:
    """Print every problem, then a count per language."""
    for problem in content.problems:
        click.secho(str(problem), fg="yellow" if problem.warning else "red", err=True)
    if content.languages:
        counts = content.counts()
        click.echo("language  articles  glossary")
        for code, (articles, terms) in counts.items():
            click.echo(f"{code:<9} {articles:>8}  {terms:>8}")
    click.echo(f"{count(len(content.errors), 'error')}, {count(len(content.warnings), 'warning')}")


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="waypost")
def main() -> None:
    """Waypost: offline-first guidance for people on the move."""


@main.command()
@click.argument("content_dir", default=DEFAULT_CONTENT, type=click.Path(path_type=Path))
def check(content_dir: Path) -> None:
    """Check a content folder and list every problem; write nothing.

    \b
    Example:
      waypost check content/
    """
    from app.content.load import load_content

    content = load_content(content_dir)
    report(content)
    if content.errors:
        sys.exit(1)


@main.command()
@click.argument("content_dir", default=DEFAULT_CONTENT, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("waypost.bundle"),
    show_default=True,
    help="Bundle file to write.",
)
@click.option(
    "--sign",
    "secret_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Secret key file (from `waypost keys new`) to sign the bundle with.",
)
@click.option(
    "--bundle-version",
    type=click.IntRange(min=1),
    metavar="N",
    help="Version number to sign; each must be higher than the last [default: the time, YYYYMMDDHHMMSS].",
)
@click.option("--expires-in", type=click.IntRange(1, 3650), default=365, show_default=True, metavar="DAYS",
              help="Days until kiosks refuse to install the signed bundle.")  # fmt: skip
@click.option(
    "--publisher", metavar="ID", help="Publisher id the root lets your key sign for [default: the key's name]."
)
def build(
    content_dir: Path,
    output: Path,
    secret_key: Path | None,
    bundle_version: int | None,
    expires_in: int,
    publisher: str | None,
) -> None:
    """Check a content folder and build it into one bundle file, signed with --sign.

    Nothing is written when the content has errors.

    \b
    Example:
      waypost build content/ -o guidance.bundle --sign my-ngo.key
    """
    from app.bundle.schema import seal_meta
    from app.distribution import signing
    from app.distribution.envelope import MAX_VERSION, next_version, write_envelope

    if bundle_version is not None and bundle_version > MAX_VERSION:
        fail(f"--bundle-version must be at most {MAX_VERSION}")
    seal = None
    if output.is_dir():
        fail(f"{output} is a folder; give the bundle file's name, e.g. -o {output / 'guidance.bundle'}")
    if secret_key:
        try:
            secret, key_id = signing.load_secret(secret_key)
            publisher = publisher or _slug(signing.key_name(secret_key)) or "publisher"
        except signing.KeyFileError as exc:
            fail(str(exc))
        now = datetime.now(UTC)
        # The date and time to the second, readable on a status page; above the
        # bundle this build replaces, so two builds in one second never collide.
        version = bundle_version or next_version(now, output)
        expires = now.date() + timedelta(days=expires_in)
        meta = seal_meta(version, expires, key_id, publisher)
        seal = lambda _digest, _built: meta  # noqa: E731
    from app.bundle.build import build_bundle
    from app.content.load import load_content

    content = load_content(content_dir)
    report(content)
    if content.errors:
        fail(f"not built: fix the {count(len(content.errors), 'error')} above")
    target = fsutil.temp_path(output, "unsigned") if seal else output
    try:
        with click.progressbar(length=len(content.articles), label="Writing articles") as bar:
            digest = build_bundle(content, target, progress=lambda _row: bar.update(1), seal=seal)
        split = bundle.storage(target)
        if seal:
            write_envelope(target, output, secret, key_id)
    except OSError as exc:
        fail(f"not built: cannot write {exc.filename or output}: {exc.strerror or exc}")
    finally:
        if seal:
            target.unlink(missing_ok=True)
    sizes = f": content {split['content'] // 1024} KB, search index {split['index'] // 1024} KB" if split else ""
    click.echo(f"Built {output} ({output.stat().st_size // 1024} KB{sizes})")
    click.echo(f"content digest {digest}")
    if seal:
        click.echo(f"signed as version {version} for publisher '{publisher}' by key {key_id}, expires {expires}")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _serve_help() -> str:
    lines = ["Serve the guidance site with a production WSGI server (granian).", "",
             "\b", "Settings (environment variables):"]  # fmt: skip
    lines += [f"  WAYPOST_{s.name}: {s.help}" for s in settings.SETTINGS]
    lines += ["", "\b", "Example:", "  waypost serve --host 0.0.0.0 --port 8000"]
    return "\n".join(lines)


@main.command(help=_serve_help())
@click.option("--host", "hosts", multiple=True, default=["127.0.0.1"], show_default=True,
              help="Address to listen on; repeat for more (--host 0.0.0.0 --host :: is every address).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--bundle", "bundle_path", type=click.Path(path_type=Path),
              help="Bundle file to serve (default: the instance bundle). It must exist, unless --demo.")  # fmt: skip
@click.option("--demo", is_flag=True, help="Build the demo guidance into the bundle path if there is no bundle there.")
@click.option("--threads", type=click.IntRange(1, 64),
              help="Threads that answer requests [default: WAYPOST_SERVER_THREADS, 4].")  # fmt: skip
def serve(hosts: tuple[str, ...], port: int, bundle_path: Path | None, demo: bool, threads: int | None) -> None:
    from app.server import (
        MAX_BODY_BYTES,
        ListenError,
        bound_malloc_arenas,
        create_server,
        is_lan_url,
        raise_file_limit,
        reader_addresses,
        server_options,
    )

    bound_malloc_arenas(os.environ)  # before any thread is started
    overrides: dict[str, Any] = {"BUNDLE": str(bundle_path)} if bundle_path else {}
    config = settings.resolve(overrides)
    instance = settings.instance_path().resolve()
    instance.mkdir(parents=True, exist_ok=True)
    live = Path(config["BUNDLE"])
    _prepare_bundle(config, str(instance), live, demo)
    options = server_options(config, raise_file_limit(), threads)
    if options["backpressure"] < config["SERVER_CONNECTION_LIMIT"]:
        click.echo(f"Accepting at most {options['backpressure']} connections: the open-file limit allows no more")
    addresses = reader_addresses(hosts, port, config["PUBLIC_URL"])
    # The poster's address when there is no PUBLIC_URL: a network address of this
    # machine (never loopback, never the mDNS name that some phones cannot resolve).
    overrides |= {"SERVED_ADDRESSES": [a for a in addresses if is_lan_url(a)], "MAX_CONTENT_LENGTH": MAX_BODY_BYTES}
    try:
        server = create_server(partial(_web_app, overrides), hosts, port, options, bool(config["ACCESS_LOG"]))
    except ListenError as exc:
        fail(str(exc))
    click.echo(f"Serving {live} (Ctrl+C stops). Phones can open:")
    for address in addresses:
        click.echo(f"  {address}")
    if all(h.startswith("127.") or h == "::1" for h in hosts) and not config["PUBLIC_URL"]:
        click.echo("  (only this machine can: --host 0.0.0.0 listens on the local network)")
    # Granian stops on SIGTERM (systemd) or SIGINT, letting the requests in hand finish, and returns.
    server.run()


def _web_app(overrides: dict) -> Any:
    """Return what `serve` answers with, once the bundle and the address are checked.

    That is the response cache; the Flask app behind it is loaded by the
    first request the cache cannot answer (app.web.cache.front).
    """
    from app.web.cache import front

    return front(overrides)


def _prepare_bundle(config: dict, instance_path: str, live: Path, demo: bool) -> None:
    """Check the bundle `serve` will serve, building the demo where that is what the operator asked for.

    Only the default instance bundle gets the demo on a first run: a path
    the operator named (--bundle, WAYPOST_BUNDLE) that does not exist is
    most likely a typo, and demo guidance there would silently replace theirs.
    """
    trusts = (kiosk_state.trust_folder(config, instance_path) / kiosk_state.ROOT_NAME).is_file()
    default = live.absolute() == (settings.instance_path() / "waypost.bundle").absolute()
    if not live.exists() and trusts:
        # A kiosk that trusts a publisher never falls back to unsigned demo guidance,
        # even after a revocation withdrew its bundle: readers are told none is loaded.
        click.echo(f"No trusted guidance at {live}: readers see that none is loaded until `waypost bundle import`")
    elif not live.exists() and not (default or demo):
        fail(f"no bundle at {live}: check the path (--bundle, WAYPOST_BUNDLE), or pass --demo to build the demo there")
    elif not live.exists():
        content_dir = Path(config["CONTENT_DIR"])
        click.echo(f"No bundle at {live} yet: building one from {content_dir}")
        from app.bundle.build import build_bundle
        from app.content.load import load_content

        content = load_content(content_dir)
        if content.errors:
            report(content)
            fail(f"cannot build {live}: fix the errors above or pass --bundle")
        build_bundle(content, live)
    try:
        if live.exists():
            bundle.connect(live).close()
    except bundle.BundleError as exc:
        from app.distribution.envelope import is_envelope

        if is_envelope(live):
            fail(f"{live} is a signed bundle file: install it with `waypost bundle import {live}`, then serve")
        fail(str(exc))


if __name__ == "__main__":
    main()
