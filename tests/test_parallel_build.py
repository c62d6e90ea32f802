"""A build in worker processes: the same problems, rows and bytes as one in a single process."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from app import parallel
from app.bundle import blocks, build
from app.bundle.build import bundle_rows, write_bundle
from app.content import load, render
from app.content.load import load_content
from app.content.model import Article, Texts

from .helpers import edit_article


def _pid(offset: int, item: int) -> tuple[int, int]:
    return item + offset, os.getpid()


def _offset(offset: int) -> int:
    return offset


def test_ordered_map_gives_every_result_in_order_from_worker_processes():
    found = list(parallel.ordered_map(_pid, _offset, (100,), range(200), least=1, processes=2))
    assert [value for value, _pid in found] == list(range(100, 300))
    assert {pid for _value, pid in found} - {os.getpid()}, "no worker process ran"


def test_ordered_map_runs_few_items_here():
    found = list(parallel.ordered_map(_pid, _offset, (0,), range(3), least=4, processes=2))
    assert found == [(0, os.getpid()), (1, os.getpid()), (2, os.getpid())]


def _die(parent: int, item: int) -> int:
    if item == 50 and os.getpid() != parent:
        os._exit(1)  # as a worker killed for memory would
    return item


def test_a_worker_that_dies_fails_the_run_instead_of_leaving_it_waiting():
    with pytest.raises(BrokenProcessPool):
        list(parallel.ordered_map(_die, _offset, (os.getpid(),), range(100), least=1, processes=2))


def test_stopping_early_stops_the_workers():
    found = parallel.ordered_map(_pid, _offset, (0,), range(10_000), least=1, processes=2)
    assert [next(found)[0] for _ in range(3)] == [0, 1, 2]
    found.close()
    assert threading.active_count() == 1  # no pool thread left behind


def _build(content_dir: Path, out: Path, monkeypatch: pytest.MonkeyPatch, processes: int):
    monkeypatch.setattr(parallel, "cores", lambda: processes)
    content = load_content(content_dir)
    problems = [str(p) for p in content.problems]
    digest = None
    if not content.errors:
        digest = write_bundle(bundle_rows(content), out, built_at="2026-01-01T00:00:00+00:00")
    return problems, digest


@pytest.fixture
def in_workers(monkeypatch):
    """Work in worker processes however few articles and blocks there are, in blocks a few articles long."""
    monkeypatch.setattr(load, "READ_PARALLEL_LEAST", 1)
    monkeypatch.setattr(render, "PARALLEL_LEAST", 1)
    monkeypatch.setattr(build, "INDEX_PARALLEL_LEAST", 1)
    monkeypatch.setattr(blocks, "PARALLEL_LEAST", 1)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 600)
    monkeypatch.setattr(blocks, "DICTIONARY_BYTES", 900)


def test_a_build_in_worker_processes_is_the_same_bytes_as_one_here(content_dir, tmp_path, monkeypatch, in_workers):
    alone = _build(content_dir, tmp_path / "one.bundle", monkeypatch, processes=1)
    shared = _build(content_dir, tmp_path / "two.bundle", monkeypatch, processes=2)
    assert alone == shared and alone[1] is not None
    one, two = (tmp_path / "one.bundle").read_bytes(), (tmp_path / "two.bundle").read_bytes()
    assert hashlib.sha256(one).digest() == hashlib.sha256(two).digest()


def test_worker_processes_report_every_problem_at_its_line(content_dir, tmp_path, monkeypatch, in_workers):
    edit_article(content_dir, "rights-1", "Keep", "<b>Keep</b> [x](http://example.org) [y](article:nowhere)")
    edit_article(content_dir, "money-1", "updated: 2026-11-01", "updated: 2026-13-01")
    (content_dir / "articles" / "en" / "stray.md").write_text("no front matter\n", encoding="utf-8")
    alone = _build(content_dir, tmp_path / "one.bundle", monkeypatch, processes=1)
    shared = _build(content_dir, tmp_path / "two.bundle", monkeypatch, processes=2)
    assert alone == shared
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
