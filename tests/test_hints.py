"""The hint lines of issue #16: a wrong command gets the right one, counts get the right noun."""

from __future__ import annotations

import pytest

from app.cli.console import count
from app.distribution import signing
from app.distribution.kiosk import import_bundle
from app.distribution.publish import publish
from app.distribution.root import load_root, make_root
from app.kiosk_state import now
from tests.helpers import edit_article, root_row, run_waypost

TODAY = now().date()
TRUST_HINT = "if it is your publisher's key, get their current root.json and run `waypost keys trust root.json`"


@pytest.mark.parametrize("name", ["guidance.bundle", "guidance-from-usb.wp"])
def test_sync_given_a_bundle_file_says_to_import_it(kiosk, content_dir, sign_bundle, tmp_path, name):
    bundle_file = sign_bundle(content_dir, tmp_path / name)
    result = run_waypost(kiosk, tmp_path, "sync", str(bundle_file))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: not updated: {bundle_file} is a bundle file, not a hub folder: "
        f"install it with `waypost bundle import {bundle_file}`"
    ]
    assert not kiosk.live.exists()


def test_sync_given_some_other_file_or_nothing_says_what_a_hub_is(kiosk, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    for where, what in ((notes, "is not a folder"), (tmp_path / "nowhere", "does not exist")):
        result = run_waypost(kiosk, tmp_path, "sync", str(where))
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"error: not updated: {where} {what}: give the hub's web address (https://...) "
            "or the folder `waypost publish` wrote"
        )


@pytest.fixture
def stranger(tmp_path):
    """A second publisher, with its own key and root, that the kiosk does not trust."""
    secret, _public = signing.new_keypair(tmp_path / "stranger", "Stranger")
    key, key_id = signing.load_secret(secret)
    root_file = tmp_path / "stranger-root.json"
    root_file.write_bytes(make_root(1, TODAY.replace(year=TODAY.year + 2), [root_row(key, "Stranger")], [key]))
    return secret, key, key_id, load_root(root_file.read_bytes())


def test_a_hub_signed_by_an_untrusted_key_gives_the_keys_trust_hint(
    kiosk, content_dir, sign_bundle, stranger, tmp_path
):
    secret, key, key_id, root = stranger
    bundle_file = sign_bundle(content_dir, tmp_path / "theirs.bundle", secret=secret)
    hub = tmp_path / "their-hub"
    publish(bundle_file, hub, key, key_id, root, TODAY)
    synced = run_waypost(kiosk, tmp_path, "sync", str(hub))
    assert synced.returncode == 1
    assert synced.stderr.count("error: ") == 1 and f"which this kiosk's trust root does not list; {TRUST_HINT}" in (
        synced.stderr
    )
    imported = run_waypost(kiosk, tmp_path, "bundle", "import", str(bundle_file))
    assert imported.returncode == 1 and TRUST_HINT in imported.stderr
    assert not kiosk.live.exists()


def test_a_refusal_that_no_trust_change_fixes_gets_no_trust_hint(kiosk, content_dir, sign_bundle, tmp_path):
    bundle_file = sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)
    assert run_waypost(kiosk, tmp_path, "bundle", "import", str(bundle_file)).returncode == 0
    again = run_waypost(kiosk, tmp_path, "bundle", "import", str(bundle_file))
    assert "keys trust" not in again.stdout + again.stderr


@pytest.mark.parametrize(
    ("n", "noun", "shown"),
    [(0, "error", "0 errors"), (1, "error", "1 error"), (2, "piece", "2 pieces"), (1, "entry", "1 entry")],
)
def test_counts_take_the_right_noun(n, noun, shown):
    assert count(n, noun, "entries" if noun == "entry" else None) == shown


def test_one_error_is_one_error(kiosk, content_dir, tmp_path):
    edit_article(content_dir, "money-1", "topic: money", "topic: cooking")
    checked = run_waypost(kiosk, tmp_path, "check", str(content_dir))
    assert checked.returncode == 1 and checked.stdout.splitlines()[-1].startswith("1 error, ")
    built = run_waypost(kiosk, tmp_path, "build", str(content_dir), "-o", str(tmp_path / "x.bundle"))
    assert "error: not built: fix the 1 error above" in built.stderr


def test_one_changed_article_downloads_one_piece(kiosk, content_dir, sign_bundle, publisher, tmp_path):
    key, key_id = signing.load_secret(publisher.secret)
    root = load_root(publisher.root.read_bytes())
    hub = tmp_path / "hub"
    first = sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)
    publish(first, hub, key, key_id, root, TODAY)
    import_bundle(kiosk, first, TODAY)
    edit_article(content_dir, "money-1", "Keep a copy", "Always keep a copy")
    publish(sign_bundle(content_dir, tmp_path / "v2.bundle", version=2), hub, key, key_id, root, TODAY)
    synced = run_waypost(kiosk, tmp_path, "sync", str(hub))
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("downloading 1 piece, ")
