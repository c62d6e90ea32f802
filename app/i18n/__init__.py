"""Languages: `runtime` serves catalogs to pages; the rest are the
translators' tools (catalogs, checks, status, pseudo-locale, content exports)."""
