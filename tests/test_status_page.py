"""The operator's status page and the kiosk's persistent log of imports and syncs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest

from app import kiosk_state
from app.distribution.kiosk import import_bundle
from app.refusal import VerifyError
from app.web import create_app

from .helpers import ROOT, edit_article

TODAY = date(2026, 11, 23)


def kiosk_app(kiosk):
    return create_app({"TESTING": True, "BUNDLE": str(kiosk.live), "TRUST_DIR": str(kiosk.trust)})


def test_the_status_page_names_version_publisher_last_update_and_kept_bundles(
    kiosk, content_dir, sign_bundle, tmp_path
):
    import_bundle(kiosk, sign_bundle(content_dir, tmp_path / "v1.bundle", version=20261201100507), TODAY)
    edit_article(content_dir, "rights-1", "Keep a copy", "Keep one copy")
    import_bundle(kiosk, sign_bundle(content_dir, tmp_path / "v2.bundle", version=20261201100508), TODAY)
    with pytest.raises(VerifyError):
        import_bundle(kiosk, tmp_path / "v1.bundle", TODAY)  # older: refused, and logged
    response = kiosk_app(kiosk).test_client().get("/en/status")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<dd>20261201100508</dd>" in html
    assert "<dd>Test NGO (test-ngo)</dd>" in html
    assert "Confirmed current on" in html
    assert "not newer than the installed version 20261201100508" in html
    assert re.search(r"<dt>Disk space left</dt><dd>[\d.,]+\s?[GM]B free</dd>", html)
    assert "-v20261201100507-" in html  # the kept bundle
    log = re.findall(r'<li(?: class="failed")?><time', html)
    assert len(log) == 3
    assert "BEGIN" not in html and "secret" not in html.lower()


def test_the_status_page_shows_without_a_bundle_and_404s_a_strange_language(tmp_path):
    client = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "none.bundle")}).test_client()
    page = client.get("/en/status").get_data(as_text=True)
    assert "No guidance is loaded" in page
    assert client.get("/zz/status").status_code == 404
    assert client.get("/en/status?q=%00%ff").status_code == 200


def test_the_status_page_speaks_the_readers_language_attributes(make_app):
    html = make_app().test_client().get("/ar/status").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html


def test_the_log_keeps_one_complete_line_per_outcome_and_stays_bounded(tmp_path):
    live = tmp_path / "waypost.bundle"
    assert kiosk_state.record(live, "import", False, "refused\nwith a second line")
    assert kiosk_state.log_path(live).read_text().split(" ", 1)[1] == "import failed refused with a second line\n"
    padding = "x" * 400
    for n in range(800):  # about 330 KB of outcomes
        kiosk_state.append_log(live, {"at": "T", "action": "sync", "ok": n % 2 == 0, "message": f"{n} {padding}"})
    path = kiosk_state.log_path(live)
    assert path.stat().st_size <= kiosk_state.MAX_LOG_BYTES
    lines = path.read_text().splitlines()
    assert all(re.fullmatch(r"T sync (ok|failed) \d+ x{400}", line) for line in lines)
    assert lines[-1].startswith("T sync failed 799 ")
    newest = kiosk_state.read_log(live, 2)
    assert [e["message"].split()[0] for e in newest] == ["799", "798"]
    assert [e["ok"] for e in newest] == [False, True]


def test_appends_from_many_processes_never_interleave(tmp_path):
    live = tmp_path / "waypost.bundle"
    code = (
        "import sys; from app import kiosk_state; from pathlib import Path\n"
        "for n in range(100): kiosk_state.append_log(Path(sys.argv[1]), "
        "{'at': 'T', 'action': 'sync', 'ok': True, 'message': sys.argv[2] * 300})"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(live), letter], env=env) for letter in "abcd"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    lines = kiosk_state.log_path(live).read_text().splitlines()
    assert len(lines) == 400
    assert all(re.fullmatch(r"T sync ok (a{300}|b{300}|c{300}|d{300})", line) for line in lines)
