"""How the server notices a new bundle or kiosk state without a system call per request, and what it costs at start."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path

from app import kiosk_state
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import cache, live

from .helpers import edit_article

ROOT = Path(__file__).resolve().parent.parent


def test_a_swap_is_served_within_the_interval_and_no_request_fails_meanwhile(
    make_app, bundle_path, content_dir, tmp_path
):
    app = make_app(SWAP_CHECK_SECONDS=0.5)
    client = app.test_client()
    assert b"Keep your copy in a safe place" in client.get("/en/money/money-1").get_data()
    edit_article(content_dir, "money-1", "Keep your copy in a safe place", "Keep the new copy close")
    new = tmp_path / "new.bundle"
    build_bundle(load_content(content_dir), new)
    os.replace(new, bundle_path)
    swapped = time.monotonic()
    seen_new = False
    while not seen_new:
        got = client.get("/en/money/money-1")
        assert got.status_code == 200  # the old bundle, still open, until the next look
        seen_new = b"Keep the new copy close" in got.get_data()
        if not seen_new:
            # A bound for a broken check on a loaded machine, not a measurement.
            assert time.monotonic() - swapped < 30, "the new bundle was never served"
            time.sleep(0.05)
    assert app.extensions["waypost_store"].current().digest != ""
    assert all(b"Keep your copy" not in e.body("") for e in app.wsgi_app.memory.entries.values())


def test_a_new_kiosk_state_changes_the_notice_after_the_interval(content_dir, tmp_path):
    from app.web import create_app

    from .test_freshness import build, notice

    today = kiosk_state.now().date()
    live = build(content_dir, tmp_path / "b.bundle", today - timedelta(days=45))
    app = create_app({"TESTING": True, "BUNDLE": str(live), "SWAP_CHECK_SECONDS": 0.3})
    assert "last confirmed" in notice(app, "/en/", "en")
    kiosk_state.record(live, "sync", True, "up to date", confirmed_on=today)
    deadline = time.monotonic() + 30
    while "last confirmed" in notice(app, "/en/", "en"):
        assert time.monotonic() < deadline, "the kiosk state was never looked at again"
        time.sleep(0.05)


def test_the_watch_looks_at_the_file_once_an_interval(tmp_path):
    path = tmp_path / "f"
    path.write_text("one")
    watch = live.Watch(path, 3600)
    first = watch()
    path.unlink()
    path.write_text("a longer second file")
    assert watch() == first  # not looked at again within the hour
    watch.checked -= 3600
    assert watch() != first and watch() == live.file_identity(path)
    assert live.Watch(path, 0)() == live.file_identity(path)
    assert live.Watch(tmp_path / "none", 0)() == ()


def test_a_cached_answer_carries_every_header_and_is_logged(make_app, caplog):
    client = make_app(ACCESS_LOG=True).test_client()
    with caplog.at_level("INFO", logger="waypost.access"):
        first = client.get("/en/search?q=guide", headers={"Accept-Encoding": "gzip"})
        hit = client.get("/en/search?q=guide", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == hit.status_code == 200
    for name in ("Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "Permissions-Policy",
                 "Cache-Control", "Vary", "ETag", "Content-Type", "Content-Encoding", "Date"):  # fmt: skip
        assert hit.headers.get(name), name
    assert hit.headers["Content-Length"] == str(len(hit.get_data()))
    assert caplog.text.count("GET /en/search 200") == 2
    assert "guide" not in caplog.text  # never what was searched


def test_memory_never_answers_with_the_old_bundle_after_a_swap():
    memory = cache.Memory(10_000_000)
    old, new = ("old", "v"), ("new", "v")
    entry = cache.Entry([("Content-Type", "text/html")], {"": b"old page"}, {"": '"a"'})
    memory.get(old, ("/",))
    memory.put(old, ("/",), entry)
    wrong: list[object] = []

    def read() -> None:
        for _ in range(2000):
            found = memory.get(new, ("/",))
            if found is entry:
                wrong.append(found)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(200):
        memory.put(old, ("/",), entry)  # a render of the old bundle finishing late
    for thread in threads:
        thread.join()
    assert wrong == []
    assert memory.owner == new and isinstance(memory.entries, OrderedDict)


# marshmallow too: about 90 ms to import, so the JSON schemas (app/web/schemas.py) load with the first JSON answer.
NOT_FOR_SERVING = ("app.content", "app.distribution", "app.bundle.build", "nacl", "markdown_it", "nh3", "pyphen",
                   "sqlite_utils", "yaml", "babel.messages.frontend", "babel.messages.extract", "marshmallow",
                   "app.web.schemas", "app.parallel", "concurrent.futures.process")  # fmt: skip


def test_the_server_starts_without_the_authoring_or_distribution_code():
    code = "import sys, app.cli.commands, app.web, app.server; print(' '.join(sorted(sys.modules)))"
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = found.stdout.split()
    assert "app.server" in modules
    assert [m for m in modules if m.startswith(NOT_FOR_SERVING)] == []
    assert [m for m in modules if m.startswith("app.cli")] == ["app.cli", "app.cli.commands", "app.cli.console"]


def test_the_supervising_process_never_loads_the_web_app():
    # `serve` checks, binds and forks; only the worker builds the Flask app, so its memory is not held twice.
    code = ("import sys, app.cli.commands, app.server, granian.server; from app import settings; "
            "app.server.server_options(settings.resolve(), 1024); print(' '.join(sorted(sys.modules)))")  # fmt: skip
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = found.stdout.split()
    assert "granian.server" in modules
    assert [m for m in modules if m.split(".")[0] in ("flask", "jinja2", "werkzeug", "flask_babel")] == []
    assert [m for m in modules if m.startswith("app.web")] == []


def test_every_command_is_still_listed_and_runs(tmp_path):
    from click.testing import CliRunner

    from app.cli.commands import LAZY_COMMANDS, main

    listed = CliRunner().invoke(main, ["--help"])
    assert listed.exit_code == 0
    for name in [*LAZY_COMMANDS, "serve", "build", "check"]:
        assert f"  {name} " in listed.output, name
    assert CliRunner().invoke(main, ["keys", "--help"]).exit_code == 0
    refused = CliRunner().invoke(main, ["build", str(tmp_path), "--bundle-version", str(10**18)])
    assert refused.exit_code == 1 and "at most" in refused.output


def test_compiled_templates_are_kept_in_the_instance_folder(make_app):
    app = make_app()
    assert app.test_client().get("/en/").status_code == 200
    kept = list((Path(app.instance_path) / cache.COMPILED_TEMPLATES).iterdir())
    assert kept, "the templates of the first page were kept compiled"
    again = make_app()
    assert again.test_client().get("/en/").get_data() == app.test_client().get("/en/").get_data()


def test_a_page_asked_for_by_many_at_once_is_rendered_once(make_app):
    from .test_cache import renders

    alone = make_app()
    with renders(alone) as once:
        alone.test_client().get("/en/money/", headers={"Accept-Encoding": "gzip"})
    app = make_app(PAGE_SHELF_MB=0)  # not the page the first app kept on the shelf: rendered here, once
    start = threading.Barrier(8)
    answers: list[int] = []

    def ask() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.get("/en/money/", headers={"Accept-Encoding": "gzip"}).status_code)

    with renders(app) as seen:
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * 8
    assert sorted(seen) == sorted(once)  # what one request renders (the page, and its pack measured once)


def test_a_flood_of_searches_never_pushes_out_the_pages(make_app):
    app = make_app(RESPONSE_CACHE_MB=0.2)
    client = app.test_client()
    client.get("/en/money/money-1")
    for n in range(60):
        assert client.get(f"/en/search?q=guide{n}").status_code == 200
    pages, queries = app.wsgi_app.memory, app.wsgi_app.queries
    assert [key[0] for key in pages.entries] == ["/en/money/money-1"]
    assert 0 < queries.bytes <= queries.limit == 25_000
    assert all(key[1] for key in queries.entries)


def test_serve_writes_the_access_log_in_batches_and_loses_nothing_at_stop(bundle_path, tmp_path):
    import requests

    from .helpers import free_port, wait_for

    port = free_port()
    env = {**os.environ, "WAYPOST_INSTANCE_PATH": str(tmp_path / "instance"), "WAYPOST_ACCESS_LOG": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--bundle", str(bundle_path)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/en/")
        for _ in range(20):
            assert requests.get(f"http://127.0.0.1:{port}/en/money/money-1?from=poster", timeout=30).status_code == 200
    finally:
        server.terminate()
        log = server.communicate(timeout=60)[1]
    assert server.returncode == 0
    assert log.count("GET /en/money/money-1 200") == 20  # cached answers too, the last ones written at stop
    assert "poster" not in log and "127.0.0.1" not in log  # never the query, never who asked


def test_malloc_arenas_are_bounded_unless_the_environment_says_otherwise():
    from app.server import bound_malloc_arenas

    assert bound_malloc_arenas({"MALLOC_ARENA_MAX": "4"}) is False  # the operator's choice stands
    # On glibc (this machine, every Debian kiosk) the limit is set; elsewhere nothing happens.
    assert bound_malloc_arenas({}) is (platform.libc_ver()[0] == "glibc")


def test_what_measuring_a_topic_freed_is_given_back_once(make_app, monkeypatch):
    from app.server import give_back_memory
    from app.web import sizes

    assert give_back_memory() is (platform.libc_ver()[0] == "glibc")
    given: list[str] = []

    def trimmed() -> bool:
        given.append("trimmed")
        return True

    monkeypatch.setattr(sizes, "give_back_memory", trimmed)
    client = make_app().test_client()
    for _ in range(3):
        assert client.get("/en/money/").status_code == 200
    # Measured on the first view only (then held per bundle), and trimmed right after it.
    assert given == ["trimmed"]
