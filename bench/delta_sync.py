"""Benchmark: how many bytes does a kiosk download when one article changes?

Builds a synthetic content set of 1,000 articles in 3 languages with the real
builder, signs it, changes one English article, publishes both versions to a
folder, and syncs a kiosk from version 1 to version 2 over a loopback HTTP
server. Prints the bytes the sync moved and the full bundle's size.
Target: the delta sync moves less than 1% of the full bundle's bytes.

Usage: python bench/delta_sync.py [--articles 1000]
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.bundle.build import build_bundle  # noqa: E402
from app.bundle.schema import seal_meta  # noqa: E402
from app.content.load import article_hash, load_content  # noqa: E402
from app.distribution import signing  # noqa: E402
from app.distribution.envelope import write_envelope  # noqa: E402
from app.distribution.kiosk import (  # noqa: E402
    Kiosk,
    import_bundle,
    trust_root,  # noqa: E402
)
from app.distribution.publish import publish  # noqa: E402
from app.distribution.root import ROLES, load_root, make_root  # noqa: E402
from app.distribution.sync import sync  # noqa: E402

LANGS = [("en", "English", "ltr"), ("fr", "Français", "ltr"), ("ar", "العربية", "rtl")]
TOPICS = ["legal-routes", "rights", "money", "digital-safety", "emergencies"]
WORDS = {
    "en": "keep your papers safe ask for help read the letter before you sign it a copy of every receipt "
    "call a trusted person the office opens in the morning bring your card and the form money sent home "
    "costs less when you compare fees check the rate first never share your code with anyone".split(),
    "fr": "gardez vos papiers en lieu sûr demandez de l'aide lisez la lettre avant de signer une copie de "
    "chaque reçu appelez une personne de confiance le bureau ouvre le matin apportez votre carte et le "
    "formulaire comparez les frais avant d'envoyer de l'argent ne partagez jamais votre code".split(),
    "ar": "احتفظ بأوراقك في مكان آمن اطلب المساعدة اقرأ الرسالة قبل أن توقع نسخة من كل إيصال اتصل بشخص "
    "تثق به يفتح المكتب في الصباح أحضر بطاقتك والاستمارة قارن الرسوم قبل إرسال المال لا تشارك رمزك "
    "مع أحد".split(),
}


def sentence(rng: random.Random, lang: str) -> str:
    words = [rng.choice(WORDS[lang]) for _ in range(rng.randint(6, 12))]
    return " ".join(words).capitalize() + "."


def body(rng: random.Random, lang: str) -> str:
    paragraphs = [" ".join(sentence(rng, lang) for _ in range(6)) for _ in range(6)]
    return "\n\n".join(paragraphs) + "\n"


def write_content(root: Path, articles: int) -> None:
    rng = random.Random(20261123)
    root.mkdir(parents=True)
    languages = "".join(f"- code: {c}\n  name: {n}\n  dir: {d}\n" for c, n, d in LANGS)
    (root / "languages.yaml").write_text(languages, encoding="utf-8")
    topics = "".join(f"- slug: {t}\n  name:\n" + "".join(f"    {c}: {t} ({c})\n" for c, _, _ in LANGS) for t in TOPICS)
    (root / "topics.yaml").write_text(topics, encoding="utf-8")
    (root / "glossary").mkdir(parents=True)
    (root / "glossary" / "en.yaml").write_text(
        "terms:\n  - id: receipt\n    term: Receipt\n    definition: A paper that shows you paid.\n", encoding="utf-8"
    )
    for i in range(articles):
        slug, topic = f"guide-{i:04d}", TOPICS[i % len(TOPICS)]
        title, summary, text = f"Guide number {i}", f"What to know, part {i}.", body(rng, "en")
        source_hash = article_hash(title, summary, text)
        for code, _, _ in LANGS:
            front = [f"slug: {slug}", f"topic: {topic}", "updated: 2026-11-01", "review_by: 2099-11-01"]
            if code == "en":
                front += [f"title: {title}", f"summary: {summary}"]
                content = text
            else:
                front += [f"title: {title} ({code})", f"summary: {summary} ({code})",
                          f"translation_of: {source_hash}", "translation_status: machine"]  # fmt: skip
                content = body(rng, code)
            front += ["sources:", "  - title: UNHCR", "    url: https://www.unhcr.org/"]
            path = root / "articles" / code / f"{slug}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("---\n" + "\n".join(front) + "\n---\n\n" + content, encoding="utf-8")


class CountingHandler(SimpleHTTPRequestHandler):
    sent: list[int] = []

    def copyfile(self, source, outputfile) -> None:
        data = source.read()
        CountingHandler.sent.append(len(data))
        outputfile.write(data)

    def log_message(self, *args) -> None:
        pass


def signed_build(content, out: Path, secret, key_id: str, version: int) -> None:
    """Build a signed bundle file, as `waypost build --sign` does."""
    sqlite = out.with_suffix(".sqlite")
    meta = seal_meta(version, date(2099, 1, 1), key_id, "bench")
    build_bundle(content, sqlite, seal=lambda _digest, _built: meta)
    write_envelope(sqlite, out, secret, key_id)
    sqlite.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="waypost-bench-"))
    try:
        run(work, args.articles)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, articles: int) -> None:
    today = date.today()
    secret_path, public_path = signing.new_keypair(work / "publisher", "Bench NGO")
    secret, key_id = signing.load_secret(secret_path)
    content_dir = work / "content"
    started = time.perf_counter()
    write_content(content_dir, articles)
    content = load_content(content_dir)
    assert not content.errors, content.errors[:3]
    v1 = work / "v1.bundle"
    signed_build(content, v1, secret, key_id, 1)
    print(f"built {len(content.articles)} articles ({articles} x {len(LANGS)} languages) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip

    changed = content_dir / "articles" / "en" / "guide-0500.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nOne new sentence for this update.\n", "utf-8")
    v2 = work / "v2.bundle"
    signed_build(load_content(content_dir), v2, secret, key_id, 2)

    hub = work / "hub"
    row = {
        "public": secret.verify_key,
        "name": "Bench NGO",
        "roles": ROLES,
        "publishers": ["bench"],
        "languages": ["*"],
    }
    root = load_root(make_root(1, date(2099, 1, 1), [row], [secret]))
    first = publish(v1, hub, secret, key_id, root, today)
    second = publish(v2, hub, secret, key_id, root, today)
    hub_size = sum(p.stat().st_size for p in hub.rglob("*") if p.is_file())
    print(f"published v1: {first['objects']} objects; v2 added {second['written']}; hub folder {hub_size:,} bytes")

    kiosk = Kiosk(live=work / "kiosk" / "waypost.bundle", trust=work / "kiosk" / "trust")
    trust_root(kiosk, root.data, name="root.json")
    import_bundle(kiosk, v1, today)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(CountingHandler, directory=str(hub)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        started = time.perf_counter()
        info = sync(kiosk, url, today)
        seconds = time.perf_counter() - started
        moved, requests = sum(CountingHandler.sent), len(CountingHandler.sent)

        CountingHandler.sent.clear()
        fresh = Kiosk(live=work / "fresh" / "waypost.bundle", trust=work / "fresh" / "trust")
        trust_root(fresh, root.data, name="root.json")
        sync(fresh, url, today)
        fresh_moved = sum(CountingHandler.sent)
    finally:
        server.shutdown()
        server.server_close()
    full = v2.stat().st_size
    print(f"full bundle (v2):              {full:>12,} bytes")
    print(f"delta sync v1 -> v2 moved:     {moved:>12,} bytes in {requests} requests, {seconds:.2f} s "
          f"(installed version {info.version if info else 'unchanged'})")  # fmt: skip
    print(f"delta / full bundle:           {100 * moved / full:>11.3f} %  (target: under 1 %)")
    print(f"first sync of an empty kiosk:  {fresh_moved:>12,} bytes ({100 * fresh_moved / full:.1f} % of the bundle)")


if __name__ == "__main__":
    main()
