"""A build in worker processes: the same problems, rows and bytes as one in a single process.

A test run has threads (servers, pools), and a process with threads never
forks workers (app/parallel.py), so each case runs in a fresh process of its
own, spawned, where the workers do start; each checks that they did.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from app import parallel
from app.bundle import blocks, build
from app.bundle.build import bundle_rows, write_bundle
from app.content import load, render
from app.content.load import load_content
from app.content.model import Article, Texts

from .helpers import edit_article


def _fresh(func: Any, *args: Any) -> Any:
    """Return func(*args) run in a new, single-threaded process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def _pid(offset: int, item: int) -> tuple[int, int]:
    return item + offset, os.getpid()


def _offset(offset: int) -> int:
    return offset


def _die(parent: int, item: int) -> int:
    if item == 50 and os.getpid() != parent:
        os._exit(1)  # as a worker killed for memory would
    return item


def _mapped() -> tuple[list[tuple[int, int]], int]:
    return list(parallel.ordered_map(_pid, _offset, (100,), range(200), least=1, processes=2)), os.getpid()


def _dying() -> str:
    try:
        list(parallel.ordered_map(_die, _offset, (os.getpid(),), range(100), least=1, processes=2))
    except BrokenProcessPool:
        return "broken"
    return "finished"


def _stopped_early() -> tuple[list[int], int]:
    found = parallel.ordered_map(_pid, _offset, (0,), range(10_000), least=1, processes=2)
    first = [next(found)[0] for _ in range(3)]
    found.close()
    return first, threading.active_count()


def test_ordered_map_gives_every_result_in_order_from_worker_processes():
    found, here = _fresh(_mapped)
    assert [value for value, _pid in found] == list(range(100, 300))
    assert {pid for _value, pid in found} - {here}, "no worker process ran"


def test_ordered_map_runs_few_items_here():
    found = list(parallel.ordered_map(_pid, _offset, (0,), range(3), least=4, processes=2))
    assert found == [(0, os.getpid()), (1, os.getpid()), (2, os.getpid())]


def test_a_process_with_other_threads_runs_everything_itself():
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        found = list(parallel.ordered_map(_pid, _offset, (0,), range(20), least=1, processes=2))
    finally:
        release.set()
        other.join()
    assert found == [(i, os.getpid()) for i in range(20)]


def test_a_worker_that_dies_fails_the_run_instead_of_leaving_it_waiting():
    assert _fresh(_dying) == "broken"


def test_stopping_early_stops_the_workers():
    assert _fresh(_stopped_early) == ([0, 1, 2], 1)  # no pool thread left behind


def _build(content_dir: Path, out: Path, processes: int) -> tuple[list[str], str | None, bool]:
    """Build in worker processes however few articles and blocks there are, in blocks a few articles long.

    Returns the problems, the digest (None when nothing was built) and whether worker processes ran.
    """
    load.READ_PARALLEL_LEAST = render.PARALLEL_LEAST = build.INDEX_PARALLEL_LEAST = blocks.PARALLEL_LEAST = 1
    blocks.BLOCK_BYTES, blocks.DICTIONARY_BYTES = 600, 900
    parallel.cores = lambda: processes
    content = load_content(content_dir)
    problems = [str(p) for p in content.problems]
    digest = None
    if not content.errors:
        digest = write_bundle(bundle_rows(content), out, built_at="2026-01-01T00:00:00+00:00")
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return problems, digest, workers.ru_utime + workers.ru_stime > 0


def test_a_build_in_worker_processes_is_the_same_bytes_as_one_here(content_dir, tmp_path):
    *alone, alone_forked = _fresh(_build, content_dir, tmp_path / "one.bundle", 1)
    *shared, shared_forked = _fresh(_build, content_dir, tmp_path / "two.bundle", 2)
    assert (alone_forked, shared_forked) == (False, True)
    assert alone == shared and alone[1] is not None
    one, two = (tmp_path / "one.bundle").read_bytes(), (tmp_path / "two.bundle").read_bytes()
    assert hashlib.sha256(one).digest() == hashlib.sha256(two).digest()


def test_worker_processes_report_every_problem_at_its_line(content_dir, tmp_path):
    edit_article(content_dir, "rights-1", "Keep", "<b>Keep</b> [x](http://example.org) [y](article:nowhere)")
    edit_article(content_dir, "money-1", "updated: 2026-11-01", "updated: 2026-13-01")
    (content_dir / "articles" / "en" / "stray.md").write_text("no front matter\n", encoding="utf-8")
    *alone, _ = _fresh(_build, content_dir, tmp_path / "one.bundle", 1)
    *shared, forked = _fresh(_build, content_dir, tmp_path / "two.bundle", 2)
    assert forked and alone == shared
    problems, digest = shared
    assert digest is None and not (tmp_path / "two.bundle").exists()
    messages = [p.split(": ", 1)[1] for p in problems if "rights-1.md" in p and "/en/" in p]
    assert "raw HTML is not allowed; write Markdown instead" in messages
    assert "link must use https://: http://example.org" in messages
    assert "link to an article that does not exist: article:nowhere" in messages
    assert any("money-1.md:6: updated: not a valid date." in p for p in problems), problems
    assert any("stray.md:1: the file must start with a line '---'" in p for p in problems), problems


def test_an_articles_texts_live_in_its_store_not_in_the_article(tmp_path):
    texts = Texts()
    article = Article(tmp_path / "a.md", "en", "a", "t", "A", "S", None, None, [], 5, {}, texts=texts)  # type: ignore[arg-type]
    assert article.html == "" and article.body == ""
    article.body, article.html = "Körper ✓", "<p>x</p>"
    assert (article.body, article.html, article.text) == ("Körper ✓", "<p>x</p>", "")
    assert texts.get(article.stored["body"]) == "Körper ✓"
    assert "Körper" not in repr(article)
