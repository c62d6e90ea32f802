"""The server-rendered pages: complete HTML that needs no JavaScript."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from werkzeug.exceptions import HTTPException

from app.bundle import read as bundle
from app.i18n import runtime as i18n
from app.web import store
from app.web.api import error_response, searched
from app.web.cache import STATIC_EXPORT
from app.web.freshness import Freshness, freshness
from app.web.sizes import offline_sizes

bp = Blueprint("pages", __name__)


def site_languages() -> list[dict[str, str]]:
    """Return the live bundle's languages (and any pseudo-locales), read once a request."""
    if "languages" not in g:
        g.languages = store.live().languages + i18n.extra_languages()
    return g.languages


def best_language() -> str:
    """Return the configured language that best fits the browser's Accept-Language."""
    try:
        codes = [lang["code"] for lang in site_languages()]
    except bundle.BundleError:
        return "en"
    return request.accept_languages.best_match(codes, default=codes[0])


def pull_lang(endpoint: str | None, values: dict | None) -> None:
    if values and "lang" in values:
        g.lang = values.pop("lang")


def add_lang(endpoint: str, values: dict) -> None:
    if "lang" in g and current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values.setdefault("lang", g.lang)


def check_lang() -> None:
    if "lang" in g and g.lang not in {lang["code"] for lang in site_languages()}:
        # The "not found" page is then shown in the browser's best language.
        g.lang = best_language()
        abort(404)


def localise(blueprint: Blueprint) -> None:
    """Take a blueprint's page language from its URL, fill it into URLs built there, and 404 an unknown one."""
    blueprint.url_value_preprocessor(pull_lang)
    blueprint.url_defaults(add_lang)
    blueprint.before_request(check_lang)


localise(bp)


@bp.app_context_processor
def page_context() -> dict:
    def switch_url(code: str) -> str:
        """Return this page's URL in another language."""
        endpoint = request.endpoint
        # An error page's own address would be an error in every language too.
        if (
            endpoint
            and not g.get("error_page")
            and current_app.url_map.is_endpoint_expecting(endpoint, "lang")
            and request.view_args is not None
        ):
            # Every page with a language starts `/<lang>/`: swap that part rather than build the URL again.
            rest = request.environ.get("PATH_INFO", "")[len(g.lang) + 1 :]
            url = f"{request.script_root}/{code}{rest}"
            return url + ("?" + request.query_string.decode() if request.query_string else "")
        return url_for("pages.home", lang=code)

    try:
        languages = site_languages()
    except bundle.BundleError:
        languages = []
    lang = g.get("lang", "en")
    current = next((x for x in languages if x["code"] == lang), {"code": lang, "dir": "ltr"})
    return {
        "languages": languages,
        "page_lang": current,
        "switch_url": switch_url,
        "guidance_age": guidance_age(),
        # The page is written for a static host (export.py): no server to search or to redirect.
        "static_export": bool(request.environ.get(STATIC_EXPORT)),
    }


def current_freshness() -> Freshness:
    """Return the freshness of the live guidance, computed once a bundle, day and kiosk state.

    Raises BundleError when there is no usable bundle.
    """
    live, path = store.live(), Path(current_app.config["BUNDLE"])
    days = current_app.config["FRESHNESS_DAYS"]
    return store.derived(("freshness", store.stamp(), days), lambda: freshness(path, live.meta, days))


def guidance_age() -> Freshness | None:
    """Return what readers must be told about the age of the live guidance, or None."""
    try:
        found = current_freshness()
    except bundle.BundleError:
        return None
    return found if found.notice else None


def kiosk_today() -> date:
    """Return the day pages count from: the kiosk's today, never before a date it holds signed."""
    return current_freshness().today


@bp.app_template_filter("day")
def day(iso: str) -> str:
    """Format an ISO date in the reader's language."""
    return format_date(date.fromisoformat(iso), format="long")


@bp.get("/")
def root() -> ResponseReturnValue:
    response = redirect(url_for("pages.home", lang=best_language()))
    response.vary.add("Accept-Language")
    return response


@bp.get("/leave")
def leave() -> ResponseReturnValue:
    """Send the reader to the neutral site of "Leave quickly" (the link without JavaScript)."""
    response = redirect(current_app.config["LEAVE_URL"])
    response.headers["Cache-Control"] = "no-store"
    return response


def private(html: str, sensitive: bool) -> Response:
    """Return a page, marked never to be stored when its subject is sensitive (trafficking, violence)."""
    response = make_response(html)
    if sensitive:
        # Neither the browser's cache nor the service worker keeps it; only the reader's "Save" does.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<lang>/")
def home() -> str:
    topics = bundle.topics(store.get_db(), g.lang, store.source_language())
    return render_template("pages/home.html", topics=topics)


@bp.get("/<lang>/<topic>/")
def topic(topic: str) -> Response:
    db, source = store.get_db(), store.source_language()
    found = bundle.topic(db, g.lang, source, topic)
    if found is None:
        abort(404)
    articles = bundle.articles_in_topic(db, g.lang, source, topic)
    sizes = offline_sizes(g.lang, topic)
    html = render_template("pages/topic.html", topic=found, articles=articles, sizes=sizes)
    return private(html, found["sensitive"])


@bp.get("/<lang>/<topic>/<slug>")
def article(topic: str, slug: str) -> ResponseReturnValue:
    db, source = store.get_db(), store.source_language()
    found = bundle.article(db, g.lang, source, slug)
    if found is None:
        abort(404)
    if found["topic"] != topic:
        return redirect(url_for("pages.article", topic=found["topic"], slug=slug), 301)
    topic_row = bundle.topic(db, g.lang, source, topic)
    html = render_template(
        "pages/article.html",
        article=found,
        topic=topic_row,
        content_lang=language(found["lang"]),
        source_lang=language(source),
        past_review=date.fromisoformat(found["review_by"]) < kiosk_today(),
    )
    return private(html, found["sensitive"])


@bp.get("/<lang>/glossary")
def glossary() -> str:
    entries = bundle.glossary(store.get_db(), g.lang, store.source_language())
    sizes = offline_sizes(g.lang, None)
    return render_template("pages/glossary.html", entries=entries, language=language, sizes=sizes)


@bp.get("/<lang>/search")
def search() -> str:
    query = request.args.get("q", "")
    found, local = searched(g.lang, query)
    first = (found["page"] - 1) * current_app.config["SEARCH_RESULTS"] + 1
    return render_template("pages/search.html", query=query, found=found, language=language, local=local, first=first)


def language(code: str) -> dict[str, str]:
    """Return one of the site's languages (code, name, dir) by its code.

    A code the site does not list (a service text in another language, say)
    is itself, left to right, so a page can still mark it.
    """
    return next((x for x in site_languages() if x["code"] == code), {"code": code, "dir": "ltr", "name": code})


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue | HTTPException:
    if request.path.startswith("/api/"):
        return error_response(exc.code or 500, exc.description or exc.name)
    if exc.code is None or exc.code < 400:
        return exc
    g.lang = g.get("lang") or best_language()
    g.error_page = True
    return render_template("pages/error.html", code=exc.code), exc.code


@bp.app_errorhandler(bundle.BundleError)
def no_bundle(exc: bundle.BundleError) -> tuple[str, int]:
    current_app.logger.error("cannot serve: %s", exc)
    g.pop("languages", None)
    g.lang = g.get("lang") or "en"
    return render_template("pages/error.html", code=503), 503
