"""Every Waypost setting, declared once.

The defaults in `create_app`, the `waypost serve --help` text and the settings
table in README.md are all derived from `SETTINGS`; a test keeps the README in
step with it.
"""

from __future__ import annotations

import json
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent


def shipped(name: str) -> Path:
    """Return a folder Waypost ships: the checkout's own in a source tree, `app/_data/` in a wheel."""
    checkout = PROJECT_ROOT / name
    if (PROJECT_ROOT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return PACKAGE / "_data" / name


def here_or_shipped(name: str) -> Path:
    """Return `name` in the current folder if there is one, else the folder Waypost ships."""
    here = Path(name)
    return here.absolute() if here.is_dir() else shipped(name)


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
        str(here_or_shipped("content")),
        "Content folder that `waypost serve` builds into a bundle when none exists yet: `content/` in the "
        "current folder, or the demo content Waypost ships when there is none.",
    ),
    Setting(
        "TRANSLATIONS_DIR",
        str(here_or_shipped("translations")),
        "Folder of the gettext catalogs (`<lang>/LC_MESSAGES/messages.po`), compiled at start: "
        "`translations/` in the current folder, or the catalogs Waypost ships.",
    ),
    Setting(
        "SERVICE_WORKER",
        str(shipped("service_worker") / "sw.js"),
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
        "Log each request's method, path, status and duration to standard error (the journal under systemd). "
        "Never logs IP addresses or query strings.",
    ),
    Setting(
        "SEARCH_RESULTS",
        10,
        "Most articles (and services) one search page shows; later pages are linked.",
    ),
    Setting(
        "RESPONSE_CACHE_MB",
        8,
        "Megabytes of memory kept for compressed pages, answered without rendering until the bundle changes. "
        "0 turns the cache off: every page is rendered for every request.",
    ),
    Setting(
        "PAGE_SHELF_MB",
        64,
        "Megabytes of disk in the instance folder for the pages the cache has compressed, so that after a "
        "restart (a power cut) they are answered at once, before the rest of the app has loaded. Oldest go "
        "first past the bound; searches are never kept. 0 keeps none on disk.",
    ),
    Setting(
        "SWAP_CHECK_SECONDS",
        1,
        "Seconds between looks at whether the live bundle or the kiosk state beside it was replaced (by "
        "`waypost bundle import`, `sync` or `rollback`): the new guidance is served within this time, and no "
        "request fails meanwhile. 0 looks at every request, which costs a cached page about half its speed.",
    ),
    Setting(
        "PUBLIC_URL",
        "",
        "The kiosk's address as readers know it (`https://guide.example.org/`). Offline packs link to it. "
        "Empty means packs link to nothing outside themselves: Waypost never takes its address from a request.",
    ),
    Setting(
        "SERVER_THREADS",
        4,
        "Threads that answer complete requests in `waypost serve` (`--threads` overrides it). More than "
        "twice the cores makes every answer slower: the threads take turns at the interpreter lock.",
    ),
    Setting(
        "SERVER_CONNECTION_LIMIT",
        2000,
        "Most connections `waypost serve` holds open at once, slow ones included (more wait in the "
        "kernel's queue); kept below half the open-file limit, which `serve` raises to its maximum at start.",
    ),
    Setting(
        "SERVER_CHANNEL_TIMEOUT",
        20,
        "Seconds a connection has to send its whole request header, however slowly, before `waypost serve` closes it.",
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
    """Return the instance folder: WAYPOST_INSTANCE_PATH, or `instance/` in the current folder."""
    return Path(os.environ.get("WAYPOST_INSTANCE_PATH") or "instance").absolute()


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return every setting: defaults, then the instance `config.py`, then `WAYPOST_*`, then overrides.

    The web app and every CLI command resolve settings through this one
    function, so a cron `sync` sees exactly what the server sees without
    building the web app.
    """
    config = defaults()
    config.update(_from_pyfile(instance_path() / "config.py"))
    config.update(_from_environment("WAYPOST_"))
    config.update(overrides or {})
    if not config["BUNDLE"]:
        config["BUNDLE"] = str(instance_path() / "waypost.bundle")
    return config


def _from_pyfile(path: Path) -> dict[str, Any]:
    # As Flask's `from_pyfile`: the file's upper-case names, none when there is no file.
    if not path.is_file():
        return {}
    return {name: value for name, value in runpy.run_path(str(path)).items() if name.isupper()}


def _from_environment(prefix: str) -> dict[str, Any]:
    # As Flask's `from_prefixed_env`: a value that reads as JSON (`true`, `30`) is
    # taken as such, anything else as the string it is.
    found = {}
    for key in sorted(os.environ):
        if key.startswith(prefix):
            value: Any = os.environ[key]
            try:
                value = json.loads(value)
            except ValueError:
                pass
            found[key.removeprefix(prefix)] = value
    return found


def markdown_table() -> str:
    """Return the settings as the Markdown table the README shows."""
    rows = ["| environment variable | default | what it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, str) and Path(default).is_absolute() and Path(default).is_relative_to(PROJECT_ROOT):
            folder = "/" if Path(default).is_dir() else ""
            default = Path(default).relative_to(PROJECT_ROOT).as_posix() + folder
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        if isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        rows.append(f"| `WAYPOST_{s.name}` | {shown} | {s.help} |")
    return "\n".join(rows)
