"""Installing bundles on a kiosk: refusals, rollback, crash safety and switching under load."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from app.cli import main
from app.distribution.kiosk import ImportRefused, Kiosk, import_bundle, rollback, status
from app.distribution.trust import VerifyError, describe
from app.refusal import Refusal
from app.web import create_app
from tests.helpers import edit_article, must, run_waypost
from tests.live import serving

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)


@pytest.fixture
def versions(content_dir, sign_bundle, tmp_path):
    """Three signed bundles of different content, versions 1 to 3."""
    made = {1: sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)}
    edit_article(content_dir, "rights-1", "Keep a copy", "Keep copy 2")
    made[2] = sign_bundle(content_dir, tmp_path / "v2.bundle", version=2)
    edit_article(content_dir, "rights-1", "Keep copy 2", "Keep copy 3")
    made[3] = sign_bundle(content_dir, tmp_path / "v3.bundle", version=3)
    return made


def live_digest(kiosk: Kiosk) -> str:
    return describe(kiosk.live).content_digest


def test_import_installs_a_verified_bundle_and_keeps_the_previous_for_rollback(kiosk, versions):
    assert must(import_bundle(kiosk, versions[1], TODAY)).version == 1
    assert must(import_bundle(kiosk, versions[2], TODAY)).version == 2
    assert describe(kiosk.live).version == 2
    assert [p.name.split("-")[1] for p in kiosk.previous()] == ["v1"]
    assert rollback(kiosk, TODAY).version == 1
    assert describe(kiosk.live).version == 1
    assert kiosk.previous() == []
    with pytest.raises(ImportRefused, match="no kept bundle"):
        rollback(kiosk, TODAY)


def test_importing_the_live_bundle_again_changes_nothing(kiosk, versions):
    import_bundle(kiosk, versions[1], TODAY)
    assert import_bundle(kiosk, versions[1], TODAY) is None
    assert kiosk.previous() == []


def test_an_older_or_equal_version_is_refused_unless_downgrading_is_allowed(kiosk, versions):
    import_bundle(kiosk, versions[2], TODAY)
    before = kiosk.live.read_bytes()
    with pytest.raises(VerifyError, match="not newer than the installed version 2") as refused:
        import_bundle(kiosk, versions[1], TODAY)
    assert refused.value.kind == Refusal.NOT_NEWER
    assert kiosk.live.read_bytes() == before
    assert must(import_bundle(kiosk, versions[1], TODAY, allow_downgrade=True)).version == 1


def test_an_expired_bundle_is_refused_and_changes_nothing(kiosk, versions, content_dir, sign_bundle, tmp_path):
    import_bundle(kiosk, versions[1], TODAY)
    before = kiosk.live.read_bytes()
    old = sign_bundle(content_dir, tmp_path / "old.bundle", version=9, expires=TODAY - timedelta(days=1))
    with pytest.raises(VerifyError, match="expired on"):
        import_bundle(kiosk, old, TODAY)
    assert kiosk.live.read_bytes() == before
    assert not list(kiosk.live.parent.glob(".*.tmp"))


def test_a_bundle_over_the_size_limit_is_refused_before_it_is_read(kiosk, versions):
    small = Kiosk(kiosk.live, kiosk.trust, max_bytes=1024)
    with pytest.raises(VerifyError, match="over this kiosk's limit") as refused:
        import_bundle(small, versions[1], TODAY)
    assert refused.value.kind == Refusal.TOO_LARGE
    assert not kiosk.live.exists()


def test_tampered_and_untrusted_bundles_leave_the_live_one_serving(kiosk, versions, content_dir, bundle_path):
    import_bundle(kiosk, versions[1], TODAY)
    digest = live_digest(kiosk)
    tampered = versions[2].with_name("tampered.bundle")
    data = bytearray(versions[2].read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
    tampered.write_bytes(bytes(data))
    for bad, kind in ((tampered, Refusal.HASH_MISMATCH), (bundle_path, Refusal.UNSIGNED)):
        with pytest.raises(VerifyError) as refused:
            import_bundle(kiosk, bad, TODAY)
        assert refused.value.kind == kind
    assert live_digest(kiosk) == digest
    client = create_app({"TESTING": True, "BUNDLE": str(kiosk.live)}).test_client()
    assert client.get("/en/rights/rights-1").status_code == 200


def test_only_the_configured_number_of_bundles_is_kept(kiosk, versions, content_dir, sign_bundle, tmp_path):
    for version in (1, 2, 3):
        import_bundle(kiosk, versions[version], TODAY)
    edit_article(content_dir, "rights-1", "Keep copy 3", "Keep copy 4")
    import_bundle(kiosk, sign_bundle(content_dir, tmp_path / "v4.bundle", version=4), TODAY)
    assert [p.name.split("-")[1] for p in kiosk.previous()] == ["v3", "v2"]  # keep=2


def test_status_and_the_json_endpoint_describe_the_live_bundle(kiosk, versions, publisher, tmp_path):
    import_bundle(kiosk, versions[2], TODAY)
    report = status(kiosk, TODAY)
    assert report["live"]["version"] == 2
    assert report["live"]["publisher"] == "test-ngo" and report["live"]["publisher_name"] == "Test NGO"
    assert report["live"]["key_id"] == publisher.key_id and report["live"]["trusted"]
    assert report["live"]["expires"] == "2099-01-01" and not report["live"]["expired"]
    app = create_app({"TESTING": True, "BUNDLE": str(kiosk.live), "TRUST_DIR": str(kiosk.trust)})
    body = app.test_client().get("/api/v1/status").get_json()
    shared = ("version", "content_digest", "built_at", "signed", "expires", "expired", "key_id", "publisher")
    assert {k: body["bundle"][k] for k in shared} == {k: report["live"][k] for k in shared}
    assert body["content_digest"] == live_digest(kiosk)


def test_the_commands_give_one_line_verdicts(kiosk, versions, tmp_path, monkeypatch):
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WAYPOST_BUNDLE", str(kiosk.live))
    monkeypatch.setenv("WAYPOST_TRUST_DIR", str(kiosk.trust))
    runner = CliRunner()
    done = runner.invoke(main, ["bundle", "import", str(versions[2])])
    assert done.exit_code == 0 and done.output.startswith("installed version 2 from 'test-ngo'"), done.output
    refused = runner.invoke(main, ["bundle", "import", str(versions[1])])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        f"error: not installed: {versions[1]} is version 1, not newer than the installed version 2; "
        "use --allow-downgrade to install it anyway"
    ]
    missing = runner.invoke(main, ["bundle", "import", str(tmp_path / "nope.bundle")])
    assert missing.exit_code == 1 and "no bundle file at" in missing.output
    shown = runner.invoke(main, ["bundle", "status"])
    assert "version      2" in shown.output and "publisher    Test NGO" in shown.output
    assert "last update" in shown.output and "import: refused" in shown.output
    back = runner.invoke(main, ["bundle", "rollback"])
    assert back.exit_code == 1 and "no kept bundle" in back.output


# Power cuts: a real `waypost bundle import` in a subprocess, killed with
# SIGKILL at each step. Before the rename the old bundle is live; after it,
# the new one. Either way the kiosk serves, and running the import again
# finishes the job.

CRASH_POINTS = [
    ("import-copied", 1),
    ("import-verified", 1),
    ("import-archived", 1),
    ("import-replaced", 2),
]


@pytest.mark.parametrize(("point", "live_after"), CRASH_POINTS)
@pytest.mark.slow
def test_an_import_killed_at_any_step_leaves_a_working_kiosk(kiosk, versions, tmp_path, point, live_after):
    import_bundle(kiosk, versions[1], TODAY)
    killed = run_waypost(kiosk, tmp_path, "bundle", "import", str(versions[2]), crash_at=point)
    assert killed.returncode == -9, killed.stderr
    assert describe(kiosk.live).version == live_after
    client = create_app({"TESTING": True, "BUNDLE": str(kiosk.live)}).test_client()
    assert client.get("/ar/").status_code == 200
    rerun = run_waypost(kiosk, tmp_path, "bundle", "import", str(versions[2]))
    assert rerun.returncode == 0, rerun.stderr
    assert describe(kiosk.live).version == 2
    assert not list(kiosk.live.parent.glob(".*.tmp"))
    assert [p.name.split("-")[1] for p in kiosk.previous()] == ["v1"]
    assert rollback(kiosk, TODAY).version == 1


@pytest.mark.slow
def test_requests_in_flight_never_fail_while_bundles_are_swapped(kiosk, versions):
    import_bundle(kiosk, versions[1], TODAY)
    app = create_app({"BUNDLE": str(kiosk.live), "TRUST_DIR": str(kiosk.trust)})
    stop = threading.Event()
    failures: list[str] = []
    seen: list[int] = []  # the version each status request saw, in order
    answered = threading.Condition()
    counts = [0]

    def reader() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                for path in ("/api/v1/status", "/en/rights/rights-1", "/ar/search?q=copy"):
                    try:
                        response = session.get(base + path, timeout=30)
                    except requests.RequestException as exc:
                        failures.append(f"{path}: {exc}")
                        continue
                    if response.status_code != 200:
                        failures.append(f"{path}: {response.status_code}")
                    elif path == "/api/v1/status":
                        seen.append(response.json()["bundle"]["version"])
                    with answered:
                        counts[0] += 1
                        answered.notify_all()

    def wait_for_requests(more: int) -> None:
        # Each swap happens under load: wait until the readers got `more` answers
        # since the last one, however slow the machine is.
        with answered:
            target = counts[0] + more
            assert answered.wait_for(lambda: counts[0] >= target or bool(failures), timeout=120), counts

    readers = [threading.Thread(target=reader) for _ in range(4)]
    swaps = [2, 3, 1, 2, 3, 1, 3]
    with serving(app) as base:
        try:
            for thread in readers:
                thread.start()
            for version in swaps:
                wait_for_requests(8)
                import_bundle(kiosk, versions[version], TODAY, allow_downgrade=version == 1)
            wait_for_requests(8)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=60)
    assert failures == []
    # Readers saw the bundles change while they read: every version, in several runs.
    assert set(seen) == {1, 2, 3}
    changes = sum(1 for a, b in zip(seen, seen[1:], strict=False) if a != b)
    assert changes >= 2, seen
