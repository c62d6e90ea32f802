"""Local help in the offline search: the index entries a place saved for offline carries, for search.js.

Online, services are found through their own FTS5 index (app/bundle/service_search.py);
offline, the service worker has only what the reader saved. Saving a place
fetches its list (places_api.save_list), and these entries ride in it, one a
service, in the shape search.js ranks articles by, so offline search finds the
saved place's services too. To keep that list small, an entry holds one
language of a service (the reader's when the service is translated, else its
own, marked with it): its name and description, its category and place in
the page's words, and its other languages' names and its organisation as
extra words to match, not its full text in every language.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext

from app.bundle import places as local
from app.web import store
from app.web.pages import language
from app.web.places import CATEGORY_NAMES


def offline_entries(place: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Return the offline index entries of a place's services, for a save list in lang (g.lang must be lang)."""
    sample = gettext("%(place)s — sample data, not a real service", place=place["name"]["text"])
    entries = []
    for data in local.raw_services(store.get_db(), place["id"]):
        texts = data["texts"]
        shown = lang if texts.get(lang, {}).get("name") else data["lang"]
        own = texts.get(shown, {})
        others = [t.get(key, "") for code, t in sorted(texts.items()) for key in ("name", "alternate_name")
                  if code != shown or key != "name"]  # fmt: skip
        organization = (data.get("organization") or {}).get("name", "")
        entry = {
            "kind": "service",
            "url": url_for("places.service", lang=lang, place_id=place["id"], service_id=data["id"]),
            "lang": shown,
            "dir": language(shown)["dir"],
            "title": own.get("name", data["id"]),
            "summary": f"{CATEGORY_NAMES.get(data['category'], data['category'])} · {place['name']['text']}",
            "text": own.get("description", ""),
            "synonyms": " ".join(word for word in [*others, organization] if word),
        }
        if place["sample"]:
            entry["note"] = sample
        entries.append(entry)
    return entries
