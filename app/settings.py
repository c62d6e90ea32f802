"""Every Waypost setting, declared once.

The defaults in `create_app`, the `waypost serve --help` text and the settings
table in README.md are all derived from `SETTINGS`; a test keeps the README in
step with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
        "TRUST_DIR",
        "",
        "Folder of this kiosk's trust root (`root.json`, from `waypost keys trust`) and of the keys it revoked "
        "itself. Empty means `trust/` in the instance folder.",
    ),
    Setting(
        "FRESHNESS_DAYS",
        30,
        "Days after which readers are told when the guidance was last confirmed current (by its build date, "
        "or by a hub's signed timestamp at the last sync).",
    ),
    Setting(
        "SYNC_DEADLINE_MINUTES",
        30,
        "Longest one `waypost sync` may run; a slower one stops, keeps what arrived, and goes on next time.",
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
        "PUBLIC_URL",
        "",
        "The kiosk's address as readers know it (`https://guide.example.org/`). Offline packs link to it. "
        "Empty means packs link to nothing outside themselves: Waypost never takes its address from a request.",
    ),
    Setting(
        "SERVER_THREADS",
        8,
        "Threads that answer complete requests in `waypost serve` (`--threads` overrides it).",
    ),
    Setting(
        "SERVER_CONNECTION_LIMIT",
        2000,
        "Most connections `waypost serve` holds open at once, slow ones included; kept below half the "
        "open-file limit, which `serve` raises to its maximum at start.",
    ),
    Setting(
        "SERVER_CHANNEL_TIMEOUT",
        20,
        "Seconds a connection may stay silent before `waypost serve` closes it.",
    ),
    Setting(
        "LEAVE_URL",
        "https://www.wikipedia.org/",
        'Where "Leave quickly" takes the reader, replacing the current page in the browser\'s history. '
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


def instance_path() -> Path:
    """Return the instance folder: WAYPOST_INSTANCE_PATH, or `instance/` beside the package."""
    return Path(os.environ.get("WAYPOST_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return every setting: defaults, then the instance `config.py`, then `WAYPOST_*`, then overrides.

    The web app and every CLI command resolve settings through this one
    function, so a cron `sync` sees exactly what the server sees without
    building the web app.
    """
    from flask import Config  # a dict with Flask's config-file and environment readers

    config = Config(str(instance_path()))
    config.from_mapping(defaults())
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("WAYPOST")
    if overrides:
        config.from_mapping(overrides)
    if not config["BUNDLE"]:
        config["BUNDLE"] = str(instance_path() / "waypost.bundle")
    return dict(config)


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
