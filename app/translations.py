"""Content translation bookkeeping: which source text a translation was made from."""

from __future__ import annotations

import re
from pathlib import Path

from .content import Content

_FIELD = re.compile(r"^translation_of:.*$", re.MULTILINE)


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
    path.write_text(front + rest, encoding="utf-8")
    return source.source_hash
