"""Shared fixtures: small real content folders, built into real bundles."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from app import bundle, create_app, signing
from app.builder import build_bundle
from app.content import article_hash, load_content
from app.kiosk import Kiosk
from app.trust import sealer

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
        "slug": slug, "topic": topic, "title": title,
        "summary": f"What to know about {title.lower()}.",
        "updated": "2026-11-01", "review_by": "2099-11-01",
    }  # fmt: skip
    front.update(extra)
    lines = [f"{key}: {value}" for key, value in front.items()]
    # One specific page per topic, so the fixture trips none of the source warnings.
    lines += ["sources:", "  - title: UNHCR Help", f"    url: https://help.unhcr.org/{topic}/", "    checked: unverified"]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + BODY.format(other=other)


def write_content(root: Path) -> Path:
    """Write a small, valid content set: every topic, two English articles each,
    translations of three articles, and a glossary of one term."""
    root.mkdir(parents=True)
    (root / "languages.yaml").write_text(
        (ROOT / "content" / "languages.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    topics = ["- slug: " + t + "\n  name:\n" + "".join(
        f"    {code}: {t.replace('-', ' ').title()} ({code})\n" for code in LANGUAGES
    ) for t in TOPICS]  # fmt: skip
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
        "slug": slug, "topic": original.topic, "title": title, "summary": f"{title}.",
        "updated": "2026-11-02", "review_by": "2099-11-01",
        "translation_of": article_hash(original.title, original.summary, original.body),
        "translation_status": "machine",
    }  # fmt: skip
    front.update(extra)
    lines = [f"{key}: {value}" for key, value in front.items()]
    url = f"https://help.unhcr.org/{original.topic}/"
    lines += ["sources:", "  - title: UNHCR", f"    url: {url}", "    checked: unverified"]
    path = root / "articles" / lang / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + textwrap.dedent(body) + "\n")
    return path


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A fresh copy of the small valid content set."""
    return write_content(tmp_path / "content")


@pytest.fixture
def bundle_path(content_dir: Path, tmp_path: Path) -> Path:
    """A bundle built from the small content set by the real builder."""
    content = load_content(content_dir)
    assert not content.errors, [str(p) for p in content.errors]
    out = tmp_path / "test.bundle"
    build_bundle(content, out)
    return out


@pytest.fixture
def make_app(bundle_path: Path, tmp_path: Path):
    """Return a factory of apps over the test bundle, with settings overridden."""

    def make(**overrides):
        config = {"TESTING": True, "BUNDLE": str(bundle_path)}
        config.update(overrides)
        return create_app(config)

    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


@pytest.fixture
def copy_of(tmp_path: Path):
    """Copy a file into tmp_path, so a test may change it freely."""

    def copy(path: Path) -> Path:
        target = tmp_path / ("copy-" + path.name)
        shutil.copy(path, target)
        return target

    return copy


@pytest.fixture
def connect():
    """Open bundles read-only, closing every one of them when the test ends."""
    opened = []

    def open_bundle(path: Path):
        conn = bundle.connect(path)
        opened.append(conn)
        return conn

    yield open_bundle
    for conn in opened:
        conn.close()


@dataclass(frozen=True)
class Publisher:
    secret: Path
    public: Path

    @property
    def key_id(self) -> str:
        return signing.load_public(self.public).key_id


@pytest.fixture(scope="session")
def publisher(tmp_path_factory) -> Publisher:
    """A publisher key pair made by the real key generator."""
    folder = tmp_path_factory.mktemp("keys")
    return Publisher(*signing.new_keypair(folder / "test-ngo", "Test NGO"))


@pytest.fixture
def sign_bundle(publisher: Publisher):
    """Return a function that builds a content folder into a signed bundle."""

    def make(content_dir: Path, out: Path, version: int = 1, expires: date = date(2099, 1, 1),
             secret: Path | None = None) -> Path:  # fmt: skip
        key, key_id = signing.load_secret(secret or publisher.secret)
        content = load_content(content_dir)
        assert not content.errors, [str(p) for p in content.errors]
        build_bundle(content, out, seal=sealer(key, key_id, version, expires))
        return out

    return make


@pytest.fixture
def kiosk(tmp_path: Path, publisher: Publisher) -> Kiosk:
    """A kiosk with no bundle yet that trusts the test publisher."""
    keys = tmp_path / "kiosk" / "trusted-keys"
    keys.mkdir(parents=True)
    shutil.copy(publisher.public, keys / "test-ngo.pub")
    return Kiosk(live=tmp_path / "kiosk" / "waypost.bundle", trusted_keys=keys, keep=2)


def edit_article(content_dir: Path, slug: str, old: str, new: str, lang: str = "en") -> None:
    """Change one article's text in a content folder."""
    path = content_dir / "articles" / lang / f"{slug}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
