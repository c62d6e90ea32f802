"""The README tells the truth about the settings and the test command."""

from __future__ import annotations

from pathlib import Path

from app.settings import markdown_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_settings_table_is_generated_from_the_settings_list():
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").split()
    assert "scripts/test" in ci
    assert "```sh\nscripts/test\n```" in (ROOT / "README.md").read_text(encoding="utf-8")
