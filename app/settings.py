"""Every Waypost setting, declared once.

The defaults in `create_app`, the `waypost serve --help` text and the settings
table in README.md are all derived from `SETTINGS`; a test keeps the README in
step with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "BUNDLE",
        "",
        "Path of the live bundle file. Empty means `waypost.bundle` in the instance folder.",
    ),
    Setting(
        "CONTENT_DIR",
        str(PROJECT_ROOT / "content"),
        "Content folder that `waypost serve` builds into a bundle when none exists yet.",
    ),
    Setting(
        "TRANSLATIONS_DIR",
        str(PROJECT_ROOT / "translations"),
        "Folder of the gettext catalogs (`<lang>/LC_MESSAGES/messages.po`), compiled at start.",
    ),
    Setting(
        "SERVICE_WORKER",
        str(PROJECT_ROOT / "service_worker" / "sw.js"),
        "Source of the service worker served at `/sw.js`. Without it the site works, but not offline.",
    ),
    Setting(
        "TRUSTED_KEYS",
        "",
        "Folder of the publisher keys (`*.pub`) this kiosk trusts. Empty means `trusted-keys/` in the instance folder.",
    ),
    Setting(
        "KEEP_BUNDLES",
        3,
        "How many previous bundles `waypost bundle import` keeps for `waypost bundle rollback`.",
    ),
    Setting(
        "MAX_BUNDLE_MB",
        200,
        "Largest bundle file, in megabytes, that `waypost bundle import` and `waypost sync` accept.",
    ),
    Setting(
        "ACCESS_LOG",
        False,
        "Log each request's method, path and status. Never logs IP addresses.",
    ),
    Setting(
        "SEARCH_RESULTS",
        20,
        "Most results one search page shows.",
    ),
    Setting(
        "LEAVE_URL",
        "https://www.wikipedia.org/",
        "Where \"Leave quickly\" takes the reader, replacing the current page in the browser's history. "
        "Pick a site that looks ordinary on a checked phone; nothing is requested from it until the reader taps.",
    ),
    Setting(
        "PSEUDO_LOCALES",
        False,
        "Also serve the pseudo-locales `en-xa` (accented, longer) and `ar-xb` (right-to-left) for testing "
        "translations. Never in production.",
    ),
)


def defaults() -> dict[str, Any]:
    """Return the default value of every setting, keyed by name."""
    return {s.name: s.default for s in SETTINGS}


def markdown_table() -> str:
    """Return the settings as the Markdown table the README shows."""
    rows = ["| environment variable | default | what it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, str) and default.startswith(str(PROJECT_ROOT)):
            folder = "/" if Path(default).is_dir() else ""
            default = Path(default).relative_to(PROJECT_ROOT).as_posix() + folder
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        if isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        rows.append(f"| `WAYPOST_{s.name}` | {shown} | {s.help} |")
    return "\n".join(rows)
