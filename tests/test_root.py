"""The trust root: rotation by chaining, thresholds, scope, and revocation that reaches the live bundle."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.distribution import signing
from app.distribution.kiosk import Kiosk, enforce_trust, import_bundle, revoke_key, rollback, trust_root
from app.distribution.root import edit_root, load_root, make_root, signed_fields
from app.distribution.trust import describe
from app.refusal import Refusal, VerifyError

from .helpers import edit_article, root_row

TODAY = date(2026, 11, 23)
LATER = date(2099, 1, 1)


@pytest.fixture
def keys(tmp_path):
    """Three key pairs: the NGO's first laptop, its second, and a partner's."""
    made = {}
    for name in ("first", "second", "partner"):
        secret, public = signing.new_keypair(tmp_path / name, name.title())
        made[name] = (secret, signing.load_secret(secret)[0], signing.load_public(public).key_id)
    return made


def test_a_root_follows_only_from_the_one_before(keys):
    _, first, first_id = keys["first"]
    _, second, second_id = keys["second"]
    v1 = load_root(make_root(1, LATER, [root_row(first, "First")], [first]))
    both = [root_row(first, "First"), root_row(second, "Second")]
    v2 = load_root(make_root(2, LATER, both, [first, second]), v1)
    assert set(v2.keys) == {first_id, second_id}
    # Signed only by the new key: the old root never agreed to it.
    with pytest.raises(VerifyError) as unchained:
        load_root(make_root(2, LATER, both, [second]), v1)
    assert unchained.value.kind == Refusal.ROOT_NOT_CHAINED
    # A skipped version is not a next version.
    with pytest.raises(VerifyError, match="accepts only version 2 next"):
        load_root(make_root(3, LATER, both, [first, second]), v1)
    # Dropping the first key: v3 needs v2's signature, which the first key still gives.
    v3 = load_root(edit_root(v2, [first, second], keys={second_id: signed_fields(v2)["keys"][second_id]}), v2)
    assert set(v3.keys) == {second_id}


def test_a_threshold_needs_that_many_distinct_root_keys(keys):
    _, first, _ = keys["first"]
    _, second, _ = keys["second"]
    rows = [root_row(first, "First"), root_row(second, "Second")]
    with pytest.raises(VerifyError, match="is not signed by 2 of its own root keys"):
        load_root(make_root(1, LATER, rows, [first], threshold=2))
    assert load_root(make_root(1, LATER, rows, [first, second], threshold=2)).threshold == 2


def test_a_key_without_the_root_role_cannot_sign_a_root(keys):
    _, first, _ = keys["first"]
    publisher_only = root_row(first, "First", roles=("bundle", "timestamp"))
    with pytest.raises(VerifyError) as caught:
        load_root(make_root(1, LATER, [publisher_only], [first]))
    assert caught.value.kind == Refusal.BAD_ROOT


@pytest.fixture
def ngo(tmp_path, keys, content_dir):
    """A kiosk that trusts root v1 (first key), and bundles v1-v3 to install."""
    from app.content.load import load_content

    from .helpers import signed_build

    secret, first, _ = keys["first"]
    root = tmp_path / "root.json"
    root.write_bytes(make_root(1, LATER, [root_row(first, "First")], [first]))
    kiosk = Kiosk(tmp_path / "kiosk" / "waypost.bundle", tmp_path / "kiosk" / "trust", keep=3)
    trust_root(kiosk, root.read_bytes(), name="root.json")

    def build(version: int, key: str = "first") -> Path:
        edit_article(content_dir, "rights-1", "Keep a copy", f"Keep a copy ({version})")
        out = signed_build(load_content(content_dir), tmp_path / f"v{version}-{key}.bundle", keys[key][0], version)
        edit_article(content_dir, "rights-1", f"Keep a copy ({version})", "Keep a copy")
        return out

    return {"kiosk": kiosk, "root": root, "build": build, "keys": keys}


def _rotate_in_second(ngo) -> None:
    """Root v2: the first key adds the second, for every role."""
    _, first, _ = ngo["keys"]["first"]
    _, second, _ = ngo["keys"]["second"]
    data = make_root(2, LATER, [root_row(first, "First"), root_row(second, "Second")], [first])
    trust_root(ngo["kiosk"], data, name="root v2")


def test_revoking_the_live_bundles_key_rolls_back_to_a_trusted_one(ngo):
    kiosk = ngo["kiosk"]
    import_bundle(kiosk, ngo["build"](1), TODAY)
    _rotate_in_second(ngo)
    import_bundle(kiosk, ngo["build"](2, "second"), TODAY)
    assert describe(kiosk.live).version == 2
    revoke_key(kiosk, ngo["keys"]["second"][2])
    done = enforce_trust(kiosk)
    assert done is not None and "rolled back to version 1" in done
    assert describe(kiosk.live).version == 1
    # Nothing signed by the revoked key can come back.
    with pytest.raises(VerifyError) as refused:
        import_bundle(kiosk, ngo["build"](3, "second"), TODAY)
    assert refused.value.kind == Refusal.REVOKED


def test_with_no_trusted_bundle_kept_the_kiosk_serves_nothing_rather_than_the_untrusted(ngo, bundle_path):
    kiosk = ngo["kiosk"]
    kiosk.live.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_path, kiosk.live)  # the unsigned demo bundle `serve` builds on first start
    import_bundle(kiosk, ngo["build"](1), TODAY)  # archives the demo bundle
    revoke_key(kiosk, ngo["keys"]["first"][2])
    done = enforce_trust(kiosk)
    assert done is not None and "serves no guidance" in done
    assert not kiosk.live.exists()  # never the unsigned demo bundle instead
    from app.web import create_app

    response = create_app({"TESTING": True, "BUNDLE": str(kiosk.live)}).test_client().get("/en/")
    assert response.status_code == 503


def test_recovering_from_a_stolen_key_that_signed_an_inflated_version(ngo):
    kiosk = ngo["kiosk"]
    import_bundle(kiosk, ngo["build"](1), TODAY)
    _rotate_in_second(ngo)
    # The second laptop is stolen; the thief publishes version 999999999999999999.
    stolen = ngo["build"](999_999_999_999_999_999, "second")
    import_bundle(kiosk, stolen, TODAY)
    with pytest.raises(VerifyError) as locked_out:
        import_bundle(kiosk, ngo["build"](2), TODAY)
    assert locked_out.value.kind == Refusal.NOT_NEWER
    # Recovery (README): the first key signs root v3 revoking the stolen key; kiosks take it by sync or USB.
    _, first, _ = ngo["keys"]["first"]
    v2 = kiosk.root()
    assert v2 is not None
    stolen_id = ngo["keys"]["second"][2]
    fields = signed_fields(v2)
    v3 = edit_root(v2, [first], keys={k: v for k, v in fields["keys"].items() if k != stolen_id}, revoked=[stolen_id])
    trust_root(kiosk, v3, name="root v3")
    assert "rolled back to version 1" in (enforce_trust(kiosk) or "")
    assert import_bundle(kiosk, ngo["build"](2), TODAY) is not None
    assert describe(kiosk.live).version == 2


def test_rollback_skips_kept_bundles_whose_key_is_no_longer_trusted(ngo):
    kiosk = ngo["kiosk"]
    _rotate_in_second(ngo)
    import_bundle(kiosk, ngo["build"](1), TODAY)
    import_bundle(kiosk, ngo["build"](2, "second"), TODAY)
    import_bundle(kiosk, ngo["build"](3), TODAY)
    revoke_key(kiosk, ngo["keys"]["second"][2])
    assert rollback(kiosk, TODAY).version == 1


def test_an_expired_root_refuses_new_bundles_until_the_publisher_sends_a_new_one(ngo, tmp_path):
    kiosk = ngo["kiosk"]
    _, first, _ = ngo["keys"]["first"]
    trust_root(
        kiosk, make_root(1, date(2026, 1, 1), [root_row(first, "First")], [first]), name="old", replace_root=True
    )
    with pytest.raises(VerifyError) as caught:
        import_bundle(kiosk, ngo["build"](1), TODAY)
    assert caught.value.kind == Refusal.ROOT_EXPIRED and "get the publisher's new root.json" in str(caught.value)
    # An expired root still signs its successor, so the kiosk can catch up.
    trust_root(kiosk, make_root(2, LATER, [root_row(first, "First")], [first]), name="new")
    assert import_bundle(kiosk, ngo["build"](1), TODAY) is not None


def test_the_key_commands_explain_themselves(ngo, tmp_path, monkeypatch):
    kiosk = ngo["kiosk"]
    monkeypatch.setenv("WAYPOST_BUNDLE", str(kiosk.live))
    monkeypatch.setenv("WAYPOST_TRUST_DIR", str(kiosk.trust))
    runner = CliRunner()
    listed = runner.invoke(main, ["keys", "list"])
    assert (
        listed.exit_code == 0 and ngo["keys"]["first"][2] in listed.output and "bundle,root,timestamp" in listed.output
    )
    bad = runner.invoke(main, ["keys", "revoke", "\x1b[2Jnot-a-key"])
    assert bad.exit_code == 1 and "\x1b" not in bad.output and "is not a key id" in bad.output
    other = tmp_path / "other-root.json"
    _, partner, _ = ngo["keys"]["partner"]
    other.write_bytes(make_root(1, LATER, [root_row(partner, "Partner")], [partner]))
    refused = runner.invoke(main, ["keys", "trust", str(other)])
    assert refused.exit_code == 1 and "accepts only version 2 next" in refused.output
    replaced = runner.invoke(main, ["keys", "trust", str(other), "--replace"])
    assert replaced.exit_code == 0 and ngo["keys"]["partner"][2] in replaced.output


def test_the_root_commands_rotate_and_revoke(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    ok("keys", "new", "laptop")
    ok("keys", "new", "spare")
    assert "root version 1" in ok("root", "init", "root.json", "--key", "laptop.key", "--publisher", "my-ngo")
    spare = signing.load_public(Path("spare.pub")).key_id
    assert "version 2 adds key " + spare in ok("root", "add-key", "root.json", "--public", "spare.pub",
                                              "--roles", "root,bundle", "--sign", "laptop.key")  # fmt: skip
    laptop = signing.load_public(Path("laptop.pub")).key_id
    assert f"version 3 revokes key {laptop}" in ok("root", "revoke-key", "root.json", laptop, "--sign", "spare.key")
    shown = ok("root", "show", "root.json")
    assert f"{laptop}  revoked" in shown and spare in shown
    # The revoked key can no longer make a root the spare key's kiosks accept.
    refused = runner.invoke(main, ["root", "add-key", "root.json", "--public", "laptop.pub", "--sign", "laptop.key"])
    assert refused.exit_code == 1 and "not written" in refused.output
