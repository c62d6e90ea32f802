/* Waypost offline search, for the service worker (importScripts): the page of
   results for a query, from the search page template and the saved topics' lists.
   Folding follows app/bundle/search.py, so offline results match the ones online. */
'use strict';

const WaypostSearch = (() => {
  const MAX_QUERY_CHARS = 200;
  const MAX_TERMS = 8;
  const SNIPPET_WORDS = 28;
  // Arabic and Persian forms of a letter made one; tatweel dropped; ZWNJ splits words.
  const LETTERS = { '\u064a': '\u06cc', '\u0649': '\u06cc', '\u0643': '\u06a9', '\u0629': '\u0647', '\u0640': '', '\u200c': ' ' };
  const WORD = /[\p{L}\p{N}_]+/gu;
  const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

  const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const fold = (text) => text.toLowerCase().normalize('NFKD').replace(/\p{Mn}/gu, '')
    .replace(/[\u064a\u0649\u0643\u0629\u0640\u200c]/g, (c) => LETTERS[c])
    .replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) % 16)) // Arabic and Persian digits
    .normalize('NFC');
  const words = (text) => fold(text).match(WORD) || [];
  const terms = (query) => words(query.slice(0, MAX_QUERY_CHARS)).slice(0, MAX_TERMS);

  function rank(entry, found) {
    // Every term must start a word; a match in the title weighs four times more, as online.
    const count = (text, term) => words(text).filter((w) => w.startsWith(term)).length;
    const scores = found.map((t) => 4 * count(entry.title, t) + count(`${entry.summary} ${entry.text} ${entry.synonyms || ''}`, t));
    return scores.every(Boolean) ? scores.reduce((a, b) => a + b) : 0;
  }

  function snippet(text, found) {
    const tokens = text.split(/\s+/).filter(Boolean);
    const hits = new Set(tokens.flatMap((token, i) => (words(token).some((w) => found.some((t) => w.startsWith(t))) ? [i] : [])));
    const start = Math.max(0, (hits.size ? Math.min(...hits) : 0) - Math.floor(SNIPPET_WORDS / 3));
    const shown = tokens.slice(start, start + SNIPPET_WORDS)
      .map((t, i) => (hits.has(start + i) ? `<mark>${escapeHtml(t)}</mark>` : escapeHtml(t)));
    return (start > 0 ? '… ' : '') + shown.join(' ') + (start + SNIPPET_WORDS < tokens.length ? ' …' : '');
  }

  // The template page holds every sentence as <template data-part="...">; the list markup is ours.
  function page(template, lists, lang, query) {
    const parts = {};
    for (const [, name, body] of template.matchAll(/<template data-part="([\w-]+)">([\s\S]*?)<\/template>/g)) {
      parts[name] = body;
    }
    const found = terms(query);
    let out = parts.empty;
    if (found.length) {
      const results = lists.filter((list) => list.lang === lang).flatMap((list) => list.index)
        .map((entry) => ({ entry, score: rank(entry, found) })).filter((r) => r.score)
        .sort((a, b) => b.score - a.score || a.entry.url.localeCompare(b.entry.url));
      out = !results.length ? parts.none : (parts[`found-${results.length}`] || '') + '<ol class="results">' +
        results.map(({ entry: e }) => `<li lang="${escapeHtml(e.lang)}" dir="${escapeHtml(e.dir)}">` +
          `<a href="${escapeHtml(e.url)}">${escapeHtml(e.title)}</a><p>${snippet(e.text, found)}</p></li>`).join('') +
        '</ol>';
    }
    return template.replace('<!--wp-results-->', out)
      .replace(/(<input id="q"[^>]*value=")"/, `$1${escapeHtml(query)}"`);
  }

  return { fold, terms, page };
})();
