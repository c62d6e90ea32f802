"""How far each language's translation has come: interface, articles and glossary.

A language's *completeness* is the share of everything there is to translate
(every interface string, every source article, every source glossary entry)
that is translated and up to date. It splits into three shares: *reviewed*
(checked by a second person), *unreviewed* (by a person, not checked yet) and
*machine* (machine translation nobody has checked), so that a language made
by machine never looks finished. Articles and glossary entries say which in
`translation_status`; a catalog records no review, so its strings count as
machine when its Last-Translator says machine translation, else as reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import Schema, fields

from app.content.load import Content
from app.i18n import catalogs


@dataclass
class Interface:
    catalog: str
    total: int
    translated: int
    fuzzy: int
    missing: int
    machine: bool = False


@dataclass
class Area:
    """Articles or glossary entries of one language, against the source language."""

    total: int = 0
    up_to_date: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    machine: list[str] = field(default_factory=list)
    unreviewed: list[str] = field(default_factory=list)


@dataclass
class LanguageStatus:
    code: str
    name: str
    interface: Interface
    articles: Area
    glossary: Area

    @property
    def complete(self) -> float:
        """Return the percentage of strings, articles and entries translated and up to date."""
        return self._share(self._done("reviewed") + self._done("unreviewed") + self._done("machine"))

    @property
    def reviewed(self) -> float:
        """Return the percentage translated, up to date and checked by a second person."""
        return self._share(self._done("reviewed"))

    @property
    def unreviewed(self) -> float:
        """Return the percentage translated by a person and up to date, but not checked yet."""
        return self._share(self._done("unreviewed"))

    @property
    def machine(self) -> float:
        """Return the percentage machine-translated and up to date, that no person has checked."""
        return self._share(self._done("machine"))

    def _done(self, kind: str) -> int:
        """Count what is translated, up to date and of one kind: reviewed, unreviewed or machine."""
        if kind == "unreviewed":
            done = 0
        else:
            done = self.interface.translated if self.interface.machine == (kind == "machine") else 0
        for area in (self.articles, self.glossary):
            current = set(area.up_to_date)
            if kind == "reviewed":
                done += len(current - set(area.machine) - set(area.unreviewed))
            else:
                done += len(current & set(getattr(area, kind)))
        return done

    def _share(self, done: int) -> float:
        total = self.interface.total + self.articles.total + self.glossary.total
        return round(100 * done / total, 1) if total else 100.0


class InterfaceSchema(Schema):
    catalog = fields.String()
    total = fields.Integer()
    translated = fields.Integer()
    fuzzy = fields.Integer()
    missing = fields.Integer()
    machine = fields.Boolean()


def _count(name: str) -> fields.Function:
    return fields.Function(lambda area: len(getattr(area, name)), metadata={"type": "integer"})


class AreaSchema(Schema):
    total = fields.Integer()
    up_to_date = _count("up_to_date")
    outdated = _count("outdated")
    missing = _count("missing")
    machine = _count("machine")
    unreviewed = _count("unreviewed")
    # What is left to do, by article slug or glossary entry id.
    outdated_ids = fields.Function(lambda area: area.outdated)
    missing_ids = fields.Function(lambda area: area.missing)


class LanguageStatusSchema(Schema):
    code = fields.String()
    name = fields.String()
    complete = fields.Float()
    # The three parts of complete: checked by a second person, by a person only, by machine only.
    reviewed = fields.Float()
    unreviewed = fields.Float()
    machine = fields.Float()
    interface = fields.Nested(InterfaceSchema)
    articles = fields.Nested(AreaSchema)
    glossary = fields.Nested(AreaSchema)


class ReportSchema(Schema):
    source_language = fields.String()
    languages = fields.List(fields.Nested(LanguageStatusSchema))


def status(content: Content, translations: Path) -> list[LanguageStatus]:
    """Return the translation status of every language but the source, in languages.yaml order."""
    from app.i18n.runtime import babel_locale

    template = catalogs.read_catalog(Path(translations) / catalogs.TEMPLATE)
    result = []
    for language in content.languages[1:]:
        path = catalogs.catalog_path(translations, babel_locale(language.code, language.fallback))
        catalog = catalogs.read_catalog(path, locale=path.parent.parent.name) if path.exists() else None
        counted = catalogs.counts(template, catalog)
        machine = catalog is not None and catalogs.machine_made(catalog)
        result.append(
            LanguageStatus(
                code=language.code,
                name=language.name,
                interface=Interface(
                    str(path), counted.total, counted.translated, counted.fuzzy, counted.missing, machine
                ),
                articles=articles_status(content, language.code),
                glossary=glossary_status(content, language.code),
            )
        )
    return result


def articles_status(content: Content, lang: str) -> Area:
    """Return which source articles are translated into lang, up to date or not."""
    source = content.source_language
    return _area(
        {a.slug: a.source_hash for a in content.articles if a.lang == source},
        {a.slug: a for a in content.articles if a.lang == lang},
    )


def glossary_status(content: Content, lang: str) -> Area:
    """Return which source glossary entries are translated into lang, up to date or not."""
    source = content.source_language
    return _area(
        {t.id: t.source_hash for t in content.terms if t.lang == source},
        {t.id: t for t in content.terms if t.lang == lang},
    )


def _area(sources: dict[str, str], translations: dict) -> Area:
    area = Area(total=len(sources))
    for key, source_hash in sorted(sources.items()):
        found = translations.get(key)
        if found is None:
            area.missing.append(key)
            continue
        (area.up_to_date if found.translation_of == source_hash else area.outdated).append(key)
        if found.translation_status in ("machine", "unreviewed"):
            getattr(area, found.translation_status).append(key)
    return area


def report(content: Content, languages: list[LanguageStatus]) -> dict:
    """Return the status as the JSON that dashboards read."""
    return ReportSchema().dump({"source_language": content.source_language, "languages": languages})


def table(languages: list[LanguageStatus]) -> list[str]:
    """Return the status as lines of a plain-text table, one language a line."""
    lines = [
        f"{'':8}  {'interface strings':<21}  {'articles':<33}  {'glossary':<33}",
        f"{'language':8}  {'done':>5} {'fuzzy':>5} {'missing':>7}  " + "  ".join(
            [f"{'done':>5} {'outdated':>8} {'missing':>7} {'unreviewed':>10}"] * 2
        ) + f"  {'complete':>8} {'reviewed':>8} {'machine':>8}",
    ]  # fmt: skip
    for s in languages:
        i = s.interface
        areas = [
            f"{len(a.up_to_date):>5} {len(a.outdated):>8} {len(a.missing):>7} {len(a.machine) + len(a.unreviewed):>10}"
            for a in (s.articles, s.glossary)
        ]
        shares = f"{s.complete:>7}% {s.reviewed:>7}% {s.machine:>7}%"
        lines.append(f"{s.code:8}  {i.translated:>5} {i.fuzzy:>5} {i.missing:>7}  {'  '.join(areas)}  {shares}")
    return [line.rstrip() for line in lines]


def details(language: LanguageStatus, content: Content) -> list[str]:
    """Return what is left to do in one language, one file or entry a line."""
    lines = []
    folder = content.root / "articles"
    for slug in language.articles.outdated:
        source = folder / content.source_language / f"{slug}.md"
        lines.append(f"outdated  {folder / language.code / (slug + '.md')}  (source: {source})")
    for slug in language.articles.missing:
        lines.append(f"missing   {folder / language.code / (slug + '.md')}")
    glossary = content.root / "glossary" / f"{language.code}.yaml"
    lines += [f"outdated  {glossary}: {term}" for term in language.glossary.outdated]
    lines += [f"missing   {glossary}: {term}" for term in language.glossary.missing]
    if language.interface.fuzzy or language.interface.missing:
        lines.append(f"to do     {language.interface.catalog}: {language.interface.fuzzy} fuzzy, "
                     f"{language.interface.missing} missing")  # fmt: skip
    return lines
