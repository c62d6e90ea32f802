"""Signed bundle files: every verdict of `waypost bundle verify`, and the attacks they must stop."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import stat
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.bundle.schema import canonical
from app.cli import main
from app.distribution import signing, trust
from app.distribution.envelope import ENVELOPE_CONTEXT, MAGIC, write_envelope
from app.distribution.root import load_root, make_root
from app.distribution.trust import VerifyError, verify_bundle
from app.refusal import Refusal

from .helpers import root_row, signed_build, write_content

TODAY = date(2026, 11, 23)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def verify(path: Path, root_file: Path, today: date = TODAY):
    with tempfile.TemporaryDirectory() as folder:
        return verify_bundle(path, load_root(root_file.read_bytes()), today, Path(folder) / "work.sqlite")


def unwrap(envelope: Path, out: Path) -> Path:
    """Return the SQLite file inside a signed bundle, as an attacker holding a USB stick can."""
    data = envelope.read_bytes()
    start = data.index(b"\n", data.index(b"\n", len(MAGIC)) + 1) + 1
    out.write_bytes(data[start:])
    return out


def rewrap(sqlite: Path, out: Path, secret: Path) -> Path:
    """Sign a changed SQLite file again, as the holder of a trusted key could."""
    key, key_id = signing.load_secret(secret)
    write_envelope(sqlite, out, key, key_id)
    return out


def splice(envelope: Path, sqlite: Path, out: Path, secret: Path) -> Path:
    """Sign the original header over other SQLite bytes, without opening them (a hostile key holder)."""
    shutil.copy(envelope, out)
    data = sqlite.read_bytes()
    resign_header(out, secret, sqlite_sha256=hashlib.sha256(data).hexdigest(), sqlite_length=len(data))
    raw = out.read_bytes()
    start = raw.index(b"\n", raw.index(b"\n", len(MAGIC)) + 1) + 1
    out.write_bytes(raw[:start] + data)
    return out


def resign_header(envelope: Path, secret: Path, **changes) -> None:
    """Change header fields and sign them again with `secret` (a key holder lying about the bytes)."""
    data = envelope.read_bytes()
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC) : end]) | changes
    key, _ = signing.load_secret(secret)
    raw = canonical(header)
    signature = signing.encode_signature(signing.sign(key, ENVELOPE_CONTEXT, raw)).encode()
    rest = data[data.index(b"\n", end + 1) + 1 :]
    envelope.write_bytes(MAGIC + raw + b"\n" + signature + b"\n" + rest)


def test_keys_new_writes_an_owner_only_secret_and_refuses_to_overwrite(tmp_path):
    result = run("keys", "new", "my-ngo", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    secret = tmp_path / "my-ngo.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key, key_id = signing.load_secret(secret)
    assert signing.load_public(tmp_path / "my-ngo.pub").key_id == key_id
    again = run("keys", "new", "my-ngo", "--dir", str(tmp_path))
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert signing.load_secret(secret)[1] == key_id  # untouched


def test_a_signed_build_verifies_against_the_root(content_dir, publisher, tmp_path):
    out = tmp_path / "signed.bundle"
    built = run("build", str(content_dir), "-o", str(out), "--sign", str(publisher.secret), "--bundle-version", "7",
                "--publisher", "test-ngo")  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "signed as version 7 for publisher 'test-ngo'" in built.output
    assert out.read_bytes().startswith(MAGIC)
    verdict = run("bundle", "verify", str(out), "--root", str(publisher.root))
    assert verdict.exit_code == 0, verdict.output
    assert verdict.output.startswith(f"ok: {out} is version 7, signed by Test NGO ({publisher.key_id}) for 'test-ngo'")


@pytest.fixture(scope="module")
def signed_original(tmp_path_factory, publisher) -> Path:
    from app.content.load import load_content

    root = tmp_path_factory.mktemp("signed")
    content = load_content(write_content(root / "content"))
    return signed_build(content, root / "original.bundle", publisher.secret, version=3)


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> Path:
    return signing.new_keypair(tmp_path_factory.mktemp("stranger") / "stranger", "Stranger")[0]


def _unsigned(path: Path, ctx) -> None:
    unwrap(path, path.with_suffix(".sqlite")).replace(path)


def _unknown_key(path: Path, ctx) -> None:
    rewrap(unwrap(path, path.with_suffix(".sqlite")), path, ctx["stranger"])


def _bad_signature(path: Path, ctx) -> None:
    data = path.read_bytes().replace(b'"expires":"2099-01-01"', b'"expires":"2099-12-31"', 1)
    path.write_bytes(data)


def _altered_bytes(path: Path, ctx) -> None:
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x55
    path.write_bytes(bytes(data))


def _truncated(path: Path, ctx) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 4096])


def _expired(path: Path, ctx) -> None:
    resign_header(path, ctx["secret"], expires="2026-01-01")


def _newer_format(path: Path, ctx) -> None:
    resign_header(path, ctx["secret"], schema_version=99)


def _not_a_bundle(path: Path, ctx) -> None:
    path.write_text("<html>404 Not Found</html>")


def _other_publisher(path: Path, ctx) -> None:
    resign_header(path, ctx["secret"], publisher="someone-else")


def _lying_header(path: Path, ctx) -> None:
    # A key holder who signs a header naming bytes that are not the ones that follow.
    resign_header(path, ctx["secret"], sqlite_sha256="0" * 64)


VERDICTS = [
    (Refusal.UNSIGNED, _unsigned, "is not signed"),
    (Refusal.UNKNOWN_KEY, _unknown_key, "which this kiosk's trust root does not list"),
    (Refusal.BAD_SIGNATURE, _bad_signature, "signature that does not match it"),
    (Refusal.HASH_MISMATCH, _altered_bytes, "was altered after it was signed"),
    (Refusal.TRUNCATED, _truncated, "where its signature says"),
    (Refusal.EXPIRED, _expired, "expired on 2026-01-01"),
    (Refusal.NEWER_SCHEMA, _newer_format, "update Waypost on this kiosk first"),
    (Refusal.NOT_SIGNED_FILE, _not_a_bundle, "is not a Waypost bundle file"),
    (Refusal.OUT_OF_SCOPE, _other_publisher, "may not publish for 'someone-else'"),
    (Refusal.HASH_MISMATCH, _lying_header, "was altered after it was signed"),
]


@pytest.mark.parametrize(("kind", "spoil", "words"), VERDICTS, ids=[v[1].__name__.strip("_") for v in VERDICTS])
def test_verify_rejects_with_one_clear_line(signed_original, stranger, tmp_path, publisher, kind, spoil, words):
    path = tmp_path / "candidate.bundle"
    shutil.copy(signed_original, path)
    spoil(path, {"stranger": stranger, "secret": publisher.secret})
    with pytest.raises(VerifyError) as caught:
        verify(path, publisher.root)
    assert caught.value.kind == kind
    result = run("bundle", "verify", str(path), "--root", str(publisher.root))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: rejected:") and words in lines[0], result.output
    # The operator's file is named, never a temporary copy.
    assert str(path) in lines[0] and ".tmp" not in lines[0]


def test_verify_without_a_trusted_root_says_how_to_add_one(signed_original, tmp_path):
    result = run("bundle", "verify", str(signed_original))
    assert result.exit_code == 1
    assert "waypost keys trust root.json" in result.output


# The attacks found against the old format, where the signature sat inside the
# SQLite file. Each must now be refused with one line, before SQLite runs
# anything the attacker wrote, or (for a file signed by a trusted key that was
# misused) by the exact-schema check, in bounded time.


def _shadow_articles(sqlite: Path) -> None:
    """Rename the real articles table and put a view of attacker HTML in its place."""
    conn = sqlite3.connect(sqlite)
    conn.executescript(
        """
        ALTER TABLE articles RENAME TO real_articles;
        CREATE VIEW articles AS SELECT id, lang, slug, topic, title, summary,
            CASE WHEN date('now') > '2000-01-01' THEN '<meta http-equiv=refresh content="0;url=https://evil.example/">'
                 ELSE html END AS html,
            text, updated, review_by, sources, source_hash, translation_of, translation_status
            FROM real_articles;
        """
    )
    conn.commit()
    conn.close()


def _recursive_meta(sqlite: Path) -> None:
    conn = sqlite3.connect(sqlite)
    conn.executescript(
        """
        ALTER TABLE meta RENAME TO real_meta;
        CREATE VIEW meta AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
            SELECT key, value FROM real_meta, n;
        """
    )
    conn.commit()
    conn.close()


def _zeroblob_meta(sqlite: Path) -> None:
    conn = sqlite3.connect(sqlite)
    conn.executescript(
        """
        ALTER TABLE meta RENAME TO real_meta;
        CREATE VIEW meta AS SELECT key, value || zeroblob(1000000000) AS value FROM real_meta;
        """
    )
    conn.commit()
    conn.close()


def _trigger(sqlite: Path) -> None:
    conn = sqlite3.connect(sqlite)
    conn.execute("CREATE TRIGGER t AFTER INSERT ON meta BEGIN DELETE FROM articles; END")
    conn.commit()
    conn.close()


ATTACKS = [_shadow_articles, _recursive_meta, _zeroblob_meta, _trigger]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.__name__.strip("_") for a in ATTACKS])
def test_a_crafted_sqlite_file_is_refused_with_or_without_a_trusted_key(
    signed_original, publisher, tmp_path, attack, monkeypatch
):
    kiosk = tmp_path / "kiosk"
    (kiosk / "trust").mkdir(parents=True)
    shutil.copy(publisher.root, kiosk / "trust" / "root.json")
    monkeypatch.setenv("WAYPOST_BUNDLE", str(kiosk / "waypost.bundle"))
    monkeypatch.setenv("WAYPOST_TRUST_DIR", str(kiosk / "trust"))
    sqlite = unwrap(signed_original, tmp_path / "inside.sqlite")
    attack(sqlite)
    started = time.monotonic()
    # Without the key: the signed hash no longer matches, so SQLite never opens it.
    spliced = tmp_path / "spliced.bundle"
    original = signed_original.read_bytes()
    header_end = original.index(b"\n", original.index(b"\n", len(MAGIC)) + 1) + 1
    spliced.write_bytes(original[:header_end] + sqlite.read_bytes())
    with pytest.raises(VerifyError) as without_key:
        verify(spliced, publisher.root)
    assert without_key.value.kind in (Refusal.HASH_MISMATCH, Refusal.TRUNCATED)
    # Plain, as it would arrive on a stick: refused as unsigned before any SQL.
    with pytest.raises(VerifyError) as plain:
        verify(sqlite, publisher.root)
    assert plain.value.kind == Refusal.UNSIGNED
    # Signed again by a trusted key (stolen, or misused): refused by the schema check.
    resigned = splice(signed_original, sqlite, tmp_path / "resigned.bundle", publisher.secret)
    with pytest.raises(VerifyError) as with_key:
        verify(resigned, publisher.root)
    assert with_key.value.kind == Refusal.FOREIGN_SCHEMA
    assert "is not a bundle Waypost made" in str(with_key.value)
    # And the kiosk command an operator runs refuses each with one line naming their file.
    for candidate in (spliced, sqlite, resigned):
        result = run("bundle", "import", str(candidate))
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: not installed:"), lines
        assert str(candidate) in lines[0]
    # Bounded: the recursive view never ran (it would never end), the zeroblob never grew.
    assert time.monotonic() - started < 60


def test_work_on_a_bundle_is_bounded_by_its_size(signed_original, tmp_path, monkeypatch):
    sqlite = unwrap(signed_original, tmp_path / "inside.sqlite")
    trust.check_sqlite(sqlite)  # a real bundle passes within the bound
    monkeypatch.setattr(trust, "MIN_STEPS", 1)
    monkeypatch.setattr(trust, "STEPS_PER_BYTE", 0)
    monkeypatch.setattr(trust, "PROGRESS_STEPS", 100)
    with pytest.raises(VerifyError) as caught:
        trust.check_sqlite(sqlite)
    assert caught.value.kind == Refusal.TOO_MUCH_WORK


def test_the_key_holder_cannot_ship_rows_that_differ_from_the_signed_digest(signed_original, publisher, tmp_path):
    sqlite = unwrap(signed_original, tmp_path / "inside.sqlite")
    conn = sqlite3.connect(sqlite)
    conn.execute("UPDATE articles SET title = 'Send your passport to this address' WHERE id = 1")
    conn.commit()
    conn.close()
    with pytest.raises(VerifyError) as caught:
        verify(rewrap(sqlite, tmp_path / "lie.bundle", publisher.secret), publisher.root)
    assert caught.value.kind == Refusal.DIGEST_MISMATCH


def test_a_key_is_limited_to_its_languages(content_dir, tmp_path):
    secret, _ = signing.new_keypair(tmp_path / "ar-team", "Arabic team")
    key = signing.load_secret(secret)[0]
    root = tmp_path / "root.json"
    root.write_bytes(make_root(1, date(2099, 1, 1), [root_row(key, "Arabic team", languages=("ar", "en"))], [key]))
    from app.content.load import load_content

    bundle = signed_build(load_content(content_dir), tmp_path / "all.bundle", secret)
    with pytest.raises(VerifyError) as caught:
        verify(bundle, root)
    assert caught.value.kind == Refusal.OUT_OF_SCOPE and "may not publish in es, fa, fr, uk" in str(caught.value)


def test_control_characters_never_reach_the_terminal(signed_original, publisher, tmp_path):
    path = tmp_path / "escape.bundle"
    shutil.copy(signed_original, path)
    resign_header(path, publisher.secret, key_id="\x1b[31mdeadbeefdeadbe")
    result = run("bundle", "verify", str(path), "--root", str(publisher.root))
    assert result.exit_code == 1 and "\x1b" not in result.output and "header Waypost cannot read" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(
    field=st.sampled_from(["bundle_version", "expires", "key_id", "publisher", "languages", "content_digest",
                           "sqlite_length", "schema_version", "built_at", "format"]),
    value=st.one_of(st.integers(-(10**20), 10**20), st.text(max_size=40), st.none(), st.lists(st.text(max_size=5))),
)  # fmt: skip
def test_any_changed_header_field_is_refused(signed_original, publisher, field, value):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.bundle"
        data = signed_original.read_bytes()
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        if header[field] == value:
            return
        header[field] = value
        # Written unsigned-over: the old signature stays, so only the change is new.
        path.write_bytes(MAGIC + canonical(header) + data[end:])
        with pytest.raises(VerifyError):
            verify(path, publisher.root)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(position=st.floats(0, 1, exclude_max=True), flip=st.integers(1, 255))
def test_any_changed_byte_of_a_signed_bundle_is_refused(signed_original, publisher, position, flip):
    data = bytearray(signed_original.read_bytes())
    offset = int(position * len(data))
    data[offset] ^= flip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.bundle"
        path.write_bytes(bytes(data))
        with pytest.raises(VerifyError):
            verify(path, publisher.root)


def test_a_file_that_is_not_a_key_gives_one_line_everywhere(content_dir, signed_original, publisher, tmp_path):
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("shopping list\n")
    hub = tmp_path / "hub"
    for args, words in (
        (["build", str(content_dir), "-o", str(tmp_path / "x.bundle"), "--sign", str(not_a_key)], "secret key file"),
        (["keys", "trust", str(not_a_key)], "not a Waypost trust root"),
        (["keys", "trust", str(publisher.public)], "Ask the publisher for their root.json"),
        # A real bundle and root, so the key file is what gets read and refused.
        (["publish", str(signed_original), str(hub), "--key", str(not_a_key), "--root", str(publisher.root)],
         "secret key file"),
    ):  # fmt: skip
        result = run(*args)
        assert result.exit_code != 0
        assert words in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "x.bundle").exists()
    assert not (tmp_path / "instance" / "trust").exists()
    assert not hub.exists()
