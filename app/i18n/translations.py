"""Content translation bookkeeping: which source text a translation was made from, and export.

A translation records only the hash of the source text it was made from
(`translation_of`). So that a translator of an outdated article can be shown
what changed in English, `stamp` also keeps that text, once per hash, in
`content/history/<hash>.txt` (the very text the hash is taken over, so it
checks itself); `export` diffs it against the current text.
"""

from __future__ import annotations

import difflib
import re
import zipfile
from pathlib import Path

from app import fsutil
from app.content.load import Article, Content
from app.content.model import short_hash

_FIELD = re.compile(r"^translation_of:.*$", re.MULTILINE)
HISTORY = "history"


def stamp(content: Content, path: Path) -> str:
    """Record in a translated article the source hash of its current source text.

    Returns the hash written. Raises ValueError when the file is not a
    translation with a source article in `content`.
    """
    path = Path(path).resolve()
    article = next((a for a in content.articles if a.path.resolve() == path), None)
    if article is None:
        raise ValueError(f"{path}: not an article of {content.root} that loads without errors")
    if article.lang == content.source_language:
        raise ValueError(f"{path}: this is a source article; stamp its translations instead")
    source = next(
        (a for a in content.articles if a.lang == content.source_language and a.slug == article.slug),
        None,
    )
    if source is None:
        raise ValueError(f"{path}: no source article with slug '{article.slug}'")
    text = path.read_text(encoding="utf-8")
    end = text.find("\n---\n", 3)
    front, rest = text[:end], text[end:]
    line = f"translation_of: {source.source_hash}"
    front = _FIELD.sub(line, front, count=1) if _FIELD.search(front) else f"{front}\n{line}"
    keep_source_text(content, source)
    fsutil.atomic_write(path, (front + rest).encode("utf-8"))
    return source.source_hash


def keep_source_text(content: Content, source: Article) -> Path:
    """Keep the text of a source article under its hash, for later diffs; return where it is."""
    path = content.root / HISTORY / f"{source.source_hash}.txt"
    if not path.exists():
        fsutil.atomic_write(path, (source.source_text + "\n").encode("utf-8"))
    return path


def source_text_at(content: Content, source_hash: str) -> str | None:
    """Return the source text a hash was taken over, if it was kept (and is intact)."""
    try:
        text = (content.root / HISTORY / f"{source_hash}.txt").read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return text if short_hash(text) == source_hash else None


def source_diff(content: Content, translation: Article, source: Article) -> str | None:
    """Return a unified diff of the source text since the translation's version, or None if it was not kept."""
    old = source_text_at(content, translation.translation_of or "")
    if old is None:
        return None
    lines = difflib.unified_diff(
        old.splitlines(), source.source_text.splitlines(), lineterm="",
        fromfile=f"{source.lang}/{source.slug} as translated ({translation.translation_of})",
        tofile=f"{source.lang}/{source.slug} now ({source.source_hash})",
    )  # fmt: skip
    return "\n".join(lines) + "\n"


EXPORT_KINDS = ("all-needed", "outdated", "missing")
# A value the content check refuses, so an untranslated copy cannot slip into a build.
TODO_STATUS = "todo  # when translated: reviewed, unreviewed or machine"

_README = """\
Waypost: articles to translate into {name} ({lang})

{summary}

articles/{lang}/  the files to translate. Translate the title, the summary and the
{pad}text; keep the slug, the topic, the links and the layout.
{source_note}glossary/{pad2}the glossary: use its terms in [...](glossary:ID) links.{glossary_note}

When you are done:

1. Copy the files in articles/{lang}/ into content/articles/{lang}/ (replace the old ones),
   and glossary/{lang}.yaml into content/glossary/ if you changed it.
2. In each file, check that translation_status says reviewed, unreviewed or
   machine (`waypost check` refuses `todo`), and set updated to today.
3. Record which source text each translation matches (leave out any file you
   did not finish), then check everything:

     waypost i18n stamp {stamp}
     waypost check content/

Files:
{files}
"""


def export(content: Content, lang: str, output: Path, only: str = "all-needed") -> list[str]:
    """Write the outdated and/or missing articles of a language to a .zip file or a folder.

    Missing articles come as their source text with `translation_of` filled in;
    outdated ones as the current translation, with the current source text
    beside it. Returns the names written, README.txt first; writes nothing when
    there is nothing to translate. A zip file appears whole or not at all.
    """
    from app.i18n.status import articles_status

    codes = [language.code for language in content.languages]
    target = content.language(lang)
    if target is None or lang == codes[0]:
        raise ValueError(f"'{lang}' is not a translated language in languages.yaml ({', '.join(codes[1:])})")
    if only not in EXPORT_KINDS:
        raise ValueError(f"'{only}' is not one of: {', '.join(EXPORT_KINDS)}")
    output = Path(output)
    if output.suffix != ".zip" and output.exists() and any(output.iterdir()):
        raise ValueError(f"{output} is a folder that is not empty; name a new folder or a .zip file")
    area = articles_status(content, lang)
    missing = area.missing if only != "outdated" else []
    outdated = area.outdated if only != "missing" else []
    source_lang = content.source_language
    sources = {a.slug: a for a in content.articles if a.lang == source_lang}
    translated = {a.slug: a for a in content.articles if a.lang == lang}
    files = {f"articles/{lang}/{slug}.md": _to_translate(sources[slug]) for slug in missing}
    unkept = []
    for slug in outdated:
        files[f"articles/{lang}/{slug}.md"] = translated[slug].path.read_text(encoding="utf-8")
        files[f"{source_lang}/{slug}.md"] = sources[slug].path.read_text(encoding="utf-8")
        diff = source_diff(content, translated[slug], sources[slug])
        if diff is None:
            unkept.append(slug)
        else:
            files[f"{source_lang}/{slug}.diff"] = diff
    if not files:
        return []
    files.update(_glossary_files(content, lang))
    pad = " " * (len(f"articles/{lang}/") + 2)
    readme = _README.format(
        name=target.name, lang=lang, pad=pad,
        source_note=_source_note(source_lang, pad, outdated, unkept), pad2=" " * (len(pad) - len("glossary/")),
        glossary_note=_glossary_note(content, lang, pad),
        summary=f"{len(missing)} missing and {len(outdated)} out-of-date articles.",
        files="\n".join(f"  {name}" for name in files),
        stamp=" ".join(f"content/{name}" for name in files if name.startswith("articles/")),
    )  # fmt: skip
    _write({"README.txt": readme, **files}, output)
    return ["README.txt", *files]


def _source_note(source_lang: str, pad: str, outdated: list[str], unkept: list[str]) -> str:
    if not outdated:
        return ""
    note = f"{source_lang}/".ljust(len(pad)) + "the current source text of each out-of-date article, and in\n"
    note += f"{pad}SLUG.diff what changed in it since the version you translated.\n"
    if unkept:
        note += (f"{pad}No earlier text was kept for {', '.join(unkept)} (translated before Waypost\n"
                 f"{pad}kept one): compare with the source text instead.\n")  # fmt: skip
    return note


def _glossary_files(content: Content, lang: str) -> dict[str, str]:
    """Return the source glossary and the language's own, as they are, to translate with."""
    found = {}
    for code in (content.source_language, lang):
        path = content.root / "glossary" / f"{code}.yaml"
        if path.is_file():
            found[f"glossary/{code}.yaml"] = path.read_text(encoding="utf-8")
    return found


def _glossary_note(content: Content, lang: str, pad: str) -> str:
    from app.i18n.status import glossary_status

    area = glossary_status(content, lang)
    todo = [*area.missing, *area.outdated]
    if not todo:
        return ""
    return (f"\n{pad}Also to translate in glossary/{lang}.yaml (missing or changed in the source):\n"
            f"{pad}{', '.join(todo)}.")  # fmt: skip


def _to_translate(source: Article) -> str:
    """Return a source article's file ready to translate: translation fields filled in."""
    text = source.path.read_text(encoding="utf-8").replace("\r\n", "\n")
    end = text.find("\n---\n", 3)
    fields = f"translation_of: {source.source_hash}\ntranslation_status: {TODO_STATUS}"
    return f"{text[:end]}\n{fields}{text[end:]}"


def _write(files: dict[str, str], output: Path) -> None:
    if output.suffix != ".zip":
        for name, text in files.items():
            fsutil.atomic_write(output / name, text.encode("utf-8"))
        return
    with fsutil.atomic_file(output) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            # A fixed date: the same articles always give the same zip.
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
