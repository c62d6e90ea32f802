"""USB stick updates: a mounted stick's hub or bundle goes through the same verified path as by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import kiosk_state
from app.distribution import signing
from app.distribution.kiosk import import_bundle
from app.distribution.publish import publish
from app.distribution.root import load_root
from app.distribution.trust import describe
from app.distribution.usb import find_guidance, mounts, watch


@pytest.fixture
def media(tmp_path):
    """A folder standing for /media, and a mount table that lists what is "mounted" below it."""
    root = tmp_path / "media"
    root.mkdir()
    table = tmp_path / "mountinfo"
    table.write_text("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n")

    def plug(label: str, device: str = "8:17") -> Path:
        stick = root / label
        stick.mkdir()
        escaped = str(stick).replace(" ", "\\040")
        with table.open("a") as f:
            f.write(
                f"{100 + len(table.read_text().splitlines())} 22 {device} / {escaped} ro,nosuid - vfat /dev/sdb1 ro\n"
            )
        return stick

    return root, table, plug


def run_watch(kiosk, media, today, rounds=1):
    root, table, _plug = media
    said: list[str] = []
    watch(kiosk, lambda: today, said.append, mountinfo=table, roots=[root], interval=0.01, rounds=rounds)
    return said


TODAY = kiosk_state.now().date()


def test_the_mount_table_is_read_with_its_escapes_and_only_below_the_roots(media):
    root, table, plug = media
    stick = plug("MY STICK")
    found = mounts(table, [root])
    assert [m.path for m in found] == [stick]
    assert mounts(table, [Path("/nowhere")]) == []


def test_a_stick_with_a_signed_bundle_is_imported_once_and_logged(kiosk, media, content_dir, sign_bundle):
    stick = media[2]("GUIDANCE")
    sign_bundle(content_dir, stick / "guidance.bundle", version=7)
    said = run_watch(kiosk, media, TODAY, rounds=3)
    assert said == [f"{stick}: installed version 7"]  # three polls, one import
    assert describe(kiosk.live).version == 7
    log = kiosk_state.read_log(kiosk.live)
    assert len(log) == 1 and log[0]["ok"] and f"installed version 7 from {stick}" in log[0]["message"]


def test_a_tampered_bundle_on_a_stick_changes_nothing_and_says_why(kiosk, media, content_dir, sign_bundle, tmp_path):
    import_bundle(kiosk, sign_bundle(content_dir, tmp_path / "v1.bundle", version=1), TODAY)
    before = kiosk.live.read_bytes()
    stick = media[2]("EVIL")
    data = bytearray(sign_bundle(content_dir, tmp_path / "v9.bundle", version=9).read_bytes())
    data[-100] ^= 1
    (stick / "guidance.bundle").write_bytes(bytes(data))
    said = run_watch(kiosk, media, TODAY)
    assert said[0].startswith(f"{stick}: not updated: ")
    assert kiosk.live.read_bytes() == before
    assert kiosk_state.read_log(kiosk.live)[0]["ok"] is False


def test_a_bundle_from_an_untrusted_key_on_a_stick_is_refused(kiosk, media, content_dir, sign_bundle, tmp_path):
    other, _public = signing.new_keypair(tmp_path / "stranger", "Stranger")
    stick = media[2]("STRANGER")
    sign_bundle(content_dir, stick / "guidance.bundle", version=5, secret=other)
    said = run_watch(kiosk, media, TODAY)
    assert "not updated" in said[0] and not kiosk.live.exists()


def test_a_stick_with_a_hub_folder_is_synced(kiosk, media, content_dir, sign_bundle, publisher, tmp_path):
    stick = media[2]("HUB")
    key, key_id = signing.load_secret(publisher.secret)
    root = load_root(publisher.root.read_bytes())
    publish(sign_bundle(content_dir, tmp_path / "v3.bundle", version=3), stick / "waypost", key, key_id, root, TODAY)
    assert find_guidance(stick)[0] == stick / "waypost"
    said = run_watch(kiosk, media, TODAY)
    assert said == [f"{stick}: installed version 3"]
    assert kiosk_state.read_log(kiosk.live)[0]["action"] == "sync"


def test_a_stick_without_guidance_is_logged_for_the_status_page(kiosk, media):
    stick = media[2]("PHOTOS")
    (stick / "holiday.jpg").write_bytes(b"\xff\xd8")
    (stick / "link.bundle").symlink_to(kiosk.trust / "root.json")  # a link is never followed
    said = run_watch(kiosk, media, TODAY)
    assert said == [f"{stick}: no Waypost guidance on this stick (a hub folder, or a .bundle file)"]
    assert kiosk_state.read_log(kiosk.live)[0]["action"] == "usb"
