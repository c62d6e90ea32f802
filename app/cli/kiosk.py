"""`waypost kiosk`: make the offline installer, and watch for USB sticks with updates."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.bundle import kiosk_from_settings, today
from app.cli.console import fail


@click.group()
def kiosk() -> None:
    """Run Waypost as an appliance: the offline installer and USB stick updates."""


@kiosk.command("make-installer")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--bundle", "bundle_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signed bundle the kiosk starts with.")  # fmt: skip
@click.option("--root", "root_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your trust root (root.json); the kiosk trusts it on install.")  # fmt: skip
@click.option("--this-machine", is_flag=True,
              help="Wheels for this computer's processor and Python only (to try the installer here).")  # fmt: skip
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Waypost's own wheel to ship [default: built from this checkout].")  # fmt: skip
def make_installer_command(
    out: Path, bundle_file: Path, root_file: Path, this_machine: bool, wheel: Path | None
) -> None:
    """Make a folder that installs Waypost on a kiosk with no internet (run it where there is internet).

    The folder holds every wheel for Linux PCs (x86_64) and Raspberry Pis
    (aarch64) with Python 3.11 to 3.13, the signed bundle, your root.json and
    install.sh. Copy it to a USB stick; on the kiosk run `sudo sh install.sh`.

    \b
    Example:
      waypost kiosk make-installer /media/usb/waypost-installer --bundle guidance.bundle --root root.json
    """
    from app.distribution.installer import InstallerError, default_targets, make_installer

    try:
        counts = make_installer(
            out,
            bundle_file,
            root_file,
            today(),
            targets=None if this_machine else default_targets(),
            wheel=wheel,
            progress=click.echo,
        )
    except InstallerError as exc:
        fail(f"no installer made: {exc}")
    click.echo(
        f"made {out}: {counts['wheels']} wheels, guidance version {counts['version']}. "
        f"On the kiosk: sudo sh {out.name}/install.sh"
    )


@kiosk.command("watch-usb")
@click.option("--once", is_flag=True, help="Look at the sticks mounted now, then stop.")
@click.option("--interval", type=click.FloatRange(0.5, 600), default=5, show_default=True, metavar="SECONDS",
              help="How often to look for a new stick.")  # fmt: skip
@click.option("--mountinfo", type=click.Path(path_type=Path), default=Path("/proc/self/mountinfo"), hidden=True)
@click.option("--under", "roots", multiple=True, type=click.Path(path_type=Path),
              help="Where sticks are mounted [default: /media, /mnt, /run/media].")  # fmt: skip
def watch_usb(once: bool, interval: float, mountinfo: Path, roots: tuple[Path, ...]) -> None:
    """Install guidance from each USB stick plugged in: a hub folder (synced) or a signed .bundle file.

    Everything on the stick is checked exactly as `waypost bundle import` and
    `waypost sync` check it; each outcome goes to the status page and log.
    The waypost-usb service runs this at boot.

    \b
    Example:
      waypost kiosk watch-usb --once
    """
    from app.distribution.usb import MOUNT_ROOTS, watch

    try:
        watch(
            kiosk_from_settings(),
            today,
            click.echo,
            mountinfo=mountinfo,
            roots=roots or MOUNT_ROOTS,
            interval=interval,
            rounds=1 if once else None,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        fail(f"cannot watch for USB sticks: {exc.strerror or exc}")
