"""Publisher keys, signed builds, and `waypost bundle verify`'s verdicts."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import signing
from app.cli import main
from app.trust import VerifyError, verify_bundle

TODAY = date(2026, 11, 23)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


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


def test_a_signed_build_verifies_against_its_public_key(content_dir, publisher, tmp_path):
    out = tmp_path / "signed.bundle"
    built = run("build", str(content_dir), "-o", str(out), "--sign", str(publisher.secret), "--bundle-version", "7")
    assert built.exit_code == 0, built.output
    assert "signed as version 7" in built.output
    verdict = run("bundle", "verify", str(out), "--trust", str(publisher.public))
    assert verdict.exit_code == 0, verdict.output
    assert verdict.output.startswith(f"ok: {out} is version 7, signed by Test NGO ({publisher.key_id})")


def _update(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


def _unsigned(path: Path, ctx) -> None:
    _update(path, "DELETE FROM meta WHERE key = 'signature'")


def _unknown_key(path: Path, ctx) -> None:
    shutil.copy(ctx["other"], path)


def _bad_signature(path: Path, ctx) -> None:
    _update(path, "UPDATE meta SET value = '2099-12-31' WHERE key = 'expires'")


def _changed_row(path: Path, ctx) -> None:
    _update(path, "UPDATE articles SET title = 'Send your passport to this address' WHERE id = 1")


def _expired(path: Path, ctx) -> None:
    shutil.copy(ctx["expired"], path)


def _schema(path: Path, ctx) -> None:
    _update(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")


def _not_sqlite(path: Path, ctx) -> None:
    path.write_text("<html>404 Not Found</html>")


def _truncated(path: Path, ctx) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damaged_page(path: Path, ctx) -> None:
    # Overwrite the b-tree page header of the second page: integrity_check must fail.
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size : page_size + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))


def _invalid_text(path: Path, ctx) -> None:
    _update(path, "UPDATE meta SET value = CAST(x'c9ff' AS TEXT) WHERE key = 'source_language'")


VERDICTS = [
    ("unsigned", _unsigned, "is not signed"),
    ("unknown-key", _unknown_key, "not one this kiosk trusts"),
    ("bad-signature", _bad_signature, "signature that does not match"),
    ("digest-mismatch", _changed_row, "rows do not match its digest"),
    ("expired", _expired, "expired on"),
    ("schema", _schema, "schema version 99"),
    ("not-sqlite", _not_sqlite, "is not a SQLite file"),
    ("truncated", _truncated, "is truncated"),
    ("corrupt", _damaged_page, "is damaged"),
    ("corrupt", _invalid_text, "is damaged"),
]


@pytest.fixture
def verdict_case(content_dir, sign_bundle, tmp_path, publisher):
    other_key = signing.new_keypair(tmp_path / "stranger", "Stranger")[0]
    return {
        "good": sign_bundle(content_dir, tmp_path / "good.bundle"),
        "other": sign_bundle(content_dir, tmp_path / "other.bundle", secret=other_key),
        "expired": sign_bundle(content_dir, tmp_path / "old.bundle", expires=date.today() - timedelta(days=1)),
    }


@pytest.mark.parametrize(("kind", "spoil", "words"), VERDICTS, ids=[v[1].__name__.strip("_") for v in VERDICTS])
def test_verify_rejects_with_one_clear_line(verdict_case, tmp_path, publisher, kind, spoil, words):
    path = tmp_path / "candidate.bundle"
    shutil.copy(verdict_case["good"], path)
    spoil(path, verdict_case)
    with pytest.raises(VerifyError) as caught:
        verify_bundle(path, signing.load_trusted([publisher.public]), date.today())
    assert caught.value.kind == kind
    result = run("bundle", "verify", str(path), "--trust", str(publisher.public))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: rejected:") and words in lines[0], result.output
    assert "Traceback" not in result.output


def test_verify_without_any_trusted_key_says_how_to_add_one(verdict_case, tmp_path, monkeypatch):
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))
    result = run("bundle", "verify", str(verdict_case["good"]))
    assert result.exit_code == 1
    assert "waypost keys trust" in result.output


# Property-based: whatever is changed in a signed bundle, it is rejected, or
# (for bytes SQLite never reads, such as free space in a page) what the server
# would read is exactly what was signed.


@pytest.fixture(scope="module")
def signed_original(tmp_path_factory, publisher):
    from app.builder import build_bundle
    from app.content import load_content
    from app.trust import sealer
    from tests.helpers import write_content

    root = tmp_path_factory.mktemp("signed")
    content = load_content(write_content(root / "content"))
    key, key_id = signing.load_secret(publisher.secret)
    out = root / "original.bundle"
    build_bundle(content, out, seal=sealer(key, key_id, 3, date(2099, 1, 1)))
    return out


# The full-text index's own b-tree. FTS5's integrity-check covers it, but not
# perfectly: in a trial of 3,000 random byte flips, one changed a term in it
# and passed. Such a flip can change only which signed articles a search
# lists, never what any page says, so the property leaves it out.
INDEX_INTERNALS = ("search_data", "search_idx")


def _dump(path: Path) -> list:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if r[0] not in INDEX_INTERNALS
        ]
        # Some FTS5 tables have no rowid: compare every table's rows as a sorted list.
        return [(t, sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"')))) for t in tables]
    finally:
        conn.close()


ROW_TARGETS = [
    ("articles", "title"), ("articles", "html"), ("articles", "text"), ("articles", "lang"), ("articles", "slug"),
    ("articles", "sources"), ("articles", "updated"), ("glossary", "definition"), ("topic_names", "name"),
    ("languages", "dir"), ("search", "body"), ("meta", "value"),
]  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(target=st.sampled_from(ROW_TARGETS), row=st.integers(0, 50), value=st.text(max_size=30))
def test_any_changed_row_is_rejected(signed_original, publisher, target, row, value):
    table, column = target
    trusted = signing.load_trusted([publisher.public])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.bundle"
        shutil.copy(signed_original, path)
        conn = sqlite3.connect(path)
        rowids = [r[0] for r in conn.execute(f"SELECT rowid FROM {table} ORDER BY rowid")]
        rowid = rowids[row % len(rowids)]
        old = conn.execute(f"SELECT {column} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()[0]
        if old == value:
            value += "x"
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
        conn.commit()
        conn.close()
        with pytest.raises(VerifyError):
            verify_bundle(path, trusted, TODAY)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(position=st.floats(0, 1, exclude_max=True), flip=st.integers(1, 255))
def test_any_changed_byte_is_rejected_or_changes_nothing_read(signed_original, publisher, position, flip):
    trusted = signing.load_trusted([publisher.public])
    data = bytearray(signed_original.read_bytes())
    offset = int(position * len(data))
    data[offset] ^= flip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.bundle"
        path.write_bytes(bytes(data))
        try:
            verify_bundle(path, trusted, TODAY)
        except VerifyError:
            return
        assert _dump(path) == _dump(signed_original), f"byte {offset} changed content and was accepted"


def test_a_file_that_is_not_a_key_gives_one_line_everywhere(content_dir, bundle_path, tmp_path):
    not_a_key = tmp_path / "notes.txt"
    not_a_key.write_text("shopping list\n")
    for args, words in (
        (["build", str(content_dir), "-o", str(tmp_path / "x.bundle"), "--sign", str(not_a_key)], "secret key file"),
        (["keys", "trust", str(not_a_key)], "public key file"),
        # A real bundle, so the key file is what gets read and refused.
        (["publish", str(bundle_path), str(tmp_path / "hub"), "--key", str(not_a_key)], "secret key file"),
    ):
        result = run(*args)
        assert result.exit_code != 0
        assert words in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "x.bundle").exists()
    assert not (tmp_path / "instance" / "trusted-keys").exists()
    assert not (tmp_path / "hub").exists()
