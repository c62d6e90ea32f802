"""Helpers the test modules share: small real content folders and the CLI in a subprocess.

Fixtures live in conftest.py; plain functions live here, so no test module
imports another.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import requests
from nacl.signing import SigningKey

from app.bundle.build import build_bundle, bundle_rows, write_bundle
from app.bundle.schema import seal_meta
from app.content.load import Content, article_hash, load_content
from app.distribution import signing
from app.distribution.envelope import write_envelope
from app.distribution.kiosk import Kiosk
from app.distribution.root import ROLES

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "ar", "fa", "fr", "es", "uk")
TOPICS = ("legal-routes", "rights", "money", "digital-safety", "emergencies")

# Plain English of a realistic length, so the plain-language checks stay quiet.
BODY = """Keep a copy of every paper you sign. Ask for one if nobody offers it.

## What to do

- Read the paper before you sign it.
- Ask what each part means.
- Keep your copy in a safe place.

You can learn more in [the glossary](glossary:passport) and in [another article](article:{other}).
"""

TRANSLATED_BODY = {
    "ar": "احتفظ بنسخة من كل ورقة توقّعها. اطلب [جواز السفر](glossary:passport) عند الحاجة. كَتَبَ الموظف اسمك.",
    "fa": "از هر برگه‌ای که امضا می‌کنید یک نسخه نگه دارید. [گذرنامه](glossary:passport) را نگه دارید. يك نسخه.",
    "fr": "Gardez une copie de chaque papier que vous signez. Votre [passeport](glossary:passport) est à vous. Résumé.",
}


def article_text(slug: str, topic: str, title: str, other: str, **extra: str) -> str:
    """Return the text of an English article file."""
    front = {
        "slug": slug,
        "topic": topic,
        "title": title,
        "summary": f"What to know about {title.lower()}.",
        "updated": "2026-11-01",
        "review_by": "2099-11-01",
    }
    front.update(extra)
    lines = [f"{key}: {value}" for key, value in front.items()]
    # One specific page per topic, so the fixture trips none of the source warnings.
    lines += [
        "sources:",
        "  - title: UNHCR Help",
        f"    url: https://help.unhcr.org/{topic}/",
        "    checked: unverified",
    ]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + BODY.format(other=other)


def write_content(root: Path) -> Path:
    """Write a small, valid content set: every topic, two English articles each,
    translations of three articles, and a glossary of one term."""
    root.mkdir(parents=True)
    (root / "languages.yaml").write_text(
        (ROOT / "content" / "languages.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    topics = [
        "- slug: "
        + t
        + "\n  name:\n"
        + "".join(f"    {code}: {t.replace('-', ' ').title()} ({code})\n" for code in LANGUAGES)
        for t in TOPICS
    ]
    (root / "topics.yaml").write_text("".join(topics), encoding="utf-8")
    en = root / "articles" / "en"
    en.mkdir(parents=True)
    slugs = [f"{t}-{n}" for t in TOPICS for n in (1, 2)]
    for i, slug in enumerate(slugs):
        other = slugs[(i + 1) % len(slugs)]
        title = f"Guide {slug.replace('-', ' ')}"
        (en / f"{slug}.md").write_text(article_text(slug, slug.rsplit("-", 1)[0], title, other))
    for lang, body in TRANSLATED_BODY.items():
        write_translation(root, lang, "rights-1", title=f"{lang} rights one", body=body)
    glossary = root / "glossary"
    glossary.mkdir()
    (glossary / "en.yaml").write_text(
        "terms:\n  - id: passport\n    term: Passport\n"
        "    definition: A travel document that your country gives you.\n",
        encoding="utf-8",
    )
    return root


def write_translation(root: Path, lang: str, slug: str, title: str, body: str, **extra) -> Path:
    """Write a translation of an English article, stamped with its source hash."""
    source = load_content(root)
    original = next(a for a in source.articles if a.lang == "en" and a.slug == slug)
    front = {
        "slug": slug,
        "topic": original.topic,
        "title": title,
        "summary": f"{title}.",
        "updated": "2026-11-02",
        "review_by": "2099-11-01",
        "translation_of": article_hash(original.title, original.summary, original.body),
        "translation_status": "machine",
    }
    front.update(extra)
    lines = [f"{key}: {value}" for key, value in front.items()]
    url = f"https://help.unhcr.org/{original.topic}/"
    lines += ["sources:", "  - title: UNHCR", f"    url: {url}", "    checked: unverified"]
    path = root / "articles" / lang / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + textwrap.dedent(body) + "\n")
    return path


PUBLISHER_ID = "test-ngo"


@dataclass(frozen=True)
class Publisher:
    secret: Path
    public: Path
    root: Path

    @property
    def key_id(self) -> str:
        return signing.load_public(self.public).key_id


def root_row(
    key: SigningKey,
    name: str,
    roles: tuple[str, ...] = ROLES,
    publishers: tuple[str, ...] = (PUBLISHER_ID,),
    languages: tuple[str, ...] = ("*",),
) -> dict:
    """Return one key's row for make_root."""
    return {"public": key.verify_key, "name": name, "roles": roles, "publishers": publishers, "languages": languages}


def signed_build(
    content: Content,
    out: Path,
    secret: Path,
    version: int = 1,
    expires: date = date(2099, 1, 1),
    publisher: str = PUBLISHER_ID,
) -> Path:
    """Build checked content into a signed bundle file, as `waypost build --sign` does."""
    key, key_id = signing.load_secret(secret)
    sqlite = out.with_name(out.name + ".sqlite")
    meta = seal_meta(version, expires, key_id, publisher)
    build_bundle(content, sqlite, seal=lambda _digest, _built: meta)
    write_envelope(sqlite, out, key, key_id)
    sqlite.unlink()
    return out


def built_fixed(content_dir: Path, out: Path) -> Content:
    """Build a content folder into out with a fixed build time, so two builds can be compared byte for byte."""
    content = load_content(content_dir)
    assert not content.errors, [str(p) for p in content.errors]
    write_bundle(bundle_rows(content), out, built_at="2026-01-01T00:00:00+00:00")
    return content


def edit_article(content_dir: Path, slug: str, old: str, new: str, lang: str = "en") -> None:
    """Change one article's text in a content folder."""
    path = content_dir / "articles" / lang / f"{slug}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_waypost(kiosk: Kiosk, tmp_path: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    """Run `waypost ARGS` in a new process against a kiosk, optionally killed at a crash point."""
    env = {
        **os.environ,
        "WAYPOST_INSTANCE_PATH": str(tmp_path / "instance"),
        "WAYPOST_BUNDLE": str(kiosk.live),
        "WAYPOST_TRUST_DIR": str(kiosk.trust),
    }
    env.pop("WAYPOST_CRASH_AT", None)
    if crash_at:
        env["WAYPOST_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def must(value: T | None) -> T:
    """Return a value that the test expects to be there (a match, a message, an installed bundle)."""
    assert value is not None
    return value


# Queries a reader might type that FTS5 would parse as syntax, or that are otherwise strange.
HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b, 3)", "-", "a -b", "((", ")", "title:x", "^x", "a OR", "AND",
           "'; DROP TABLE articles; --", "\x00", "🙂", "a" * 10_000, " ", "%", "_", "{a b}", "+", "\\"]  # fmt: skip


PLACE_YAML = """name:
  en: Testville
  ar: مدينة الاختبار
country: DE
timezone: Europe/Berlin
services_checked: 2026-11-20
emergency:
  - number: "112"
    name:
      en: Ambulance and fire
    source: https://digital-strategy.ec.europa.eu/en/policies/112
    checked: 2026-11-20
"""
# A small HSDS 3.0 export: one organisation, two services at one location.
HSDS_30 = {
    "organizations.csv": "id,name,description\norg-1,Test Org,An organisation.\n",
    "services.csv": "id,organization_id,name,description,status,assured_date\n"
    "svc-1,org-1,Legal clinic,Free advice.,active,2026-11-20\n"
    "svc-2,org-1,Food bank,Food parcels.,active,2026-11-20\n",
    "locations.csv": "id,location_type,name,latitude,longitude\nloc-1,physical,Main hall,52.5,13.4\n",
    "service_at_location.csv": "id,service_id,location_id\nsal-1,svc-1,loc-1\nsal-2,svc-2,loc-1\n",
    "addresses.csv": "id,location_id,address_1,city,state_province,postal_code,country,address_type\n"
    "addr-1,loc-1,1 Test Street,Testville,Berlin,10001,DE,physical\n",
    "phones.csv": "id,service_id,number,type\nph-1,svc-1,030 23125 001,voice\n",
    "schedules.csv": 'id,service_id,freq,byday,opens_at,closes_at\nsch-1,svc-1,WEEKLY,"TH,FR",10:00,16:00\n',
}


def write_place(
    content_dir: Path, place_id: str = "testville", place_yaml: str = PLACE_YAML, files: dict[str, str] | None = None
) -> Path:
    """Write a place folder (place.yaml and an HSDS export in services/) into a content folder."""
    folder = content_dir / "places" / place_id
    (folder / "services").mkdir(parents=True, exist_ok=True)
    (folder / "place.yaml").write_text(place_yaml, encoding="utf-8")
    for name, text in (HSDS_30 if files is None else files).items():
        path = folder / "services" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    # A bound for a server that never starts; a loaded machine only makes it slower.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def shown(msgid: str, lang: str) -> str:
    """Return the longest literal part of an interface string as a page in lang shows it (HTML-escaped).

    Read from the language's own catalog, so a test of a translated page
    checks the translation, not the English it was made from.
    """
    import re as _re

    from babel.messages.pofile import read_po
    from markupsafe import escape

    text = msgid
    if lang != "en":
        with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
            message = read_po(f).get(msgid)
        assert message is not None and message.string, f"{msgid!r} has no {lang} translation"
        text = message.string if isinstance(message.string, str) else message.string[0]
    parts = [p.strip() for p in _re.split(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}", text)]
    return str(escape(max(parts, key=len)))
