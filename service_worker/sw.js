/* Waypost service worker: offline reading on secure origins (HTTPS or localhost).
 *
 * The server serves this file at /sw.js and fills in its version (app version
 * and bundle digest) and the hashed URLs of the shell and of the offline search
 * script, so nothing here is kept in step by hand. It shows no text of its own:
 * every word comes from pages the server rendered in the reader's language.
 * See README.md beside it.
 */
'use strict';

const VERSION = '__WAYPOST_VERSION__';
const SHELL_ASSETS = __WAYPOST_SHELL__;
const LANGUAGES = __WAYPOST_LANGUAGES__; // every language of the guidance; each has a small offline page
importScripts(__WAYPOST_SEARCH__); // WaypostSearch: offline search over the saved topics
const PREFIX = 'waypost-';
const SHELL = `${PREFIX}shell-${VERSION}`; // offline pages, stylesheet, scripts, icons
const PAGES = `${PREFIX}pages-${VERSION}`; // pages read recently
const SAVED = `${PREFIX}saved-${VERSION}`; // topics the reader chose to save
const SETTINGS = `${PREFIX}settings`; // the reader's choices, kept on this phone across versions
const CURRENT = [SHELL, PAGES, SAVED, SETTINGS];
const KEEP = '/.waypost/keep-recent'; // in SETTINGS: "no" once the reader said "Don't keep pages"
const LAST_LANGUAGE = '/.waypost/last-language'; // in SETTINGS: the language of the last page opened
const NETWORK_TIMEOUT_MS = 4000;
const RECENT_PAGES = 40;
const LIST = '/offline.json';
// The language of a page of ours: the first path segment, when it is one of the guidance's languages
// (so /api/ or /static/ never is).
const languageOf = (url) => {
  const code = (new URL(url, self.location).pathname.match(/^\/([^/]+)\//) || [])[1];
  return LANGUAGES.includes(code) ? code : undefined;
};
const languagePages = (lang) => [`/${lang}/`, `/${lang}/offline`, `/${lang}/saved`, `/${lang}/offline-search`];
const digestOf = (name) => name.split('-').pop();
let refreshing = null;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // The reader's languages: those of the open pages, and those cached before.
    const open = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true })).map((c) => c.url);
    const before = (await Promise.all((await ownCaches()).map(async (name) =>
      (await (await caches.open(name)).keys()).map((r) => r.url)))).flat().filter((u) => u.endsWith('/offline-search'));
    const langs = [...new Set([...open, ...before].map(languageOf).filter(Boolean))];
    const cache = await caches.open(SHELL);
    await cache.addAll(SHELL_ASSETS);
    // Every language's offline page, so no navigation offline ends on the browser's error page.
    await cache.addAll(LANGUAGES.map((lang) => `/${lang}/offline`));
    await Promise.all(langs.map((lang) => cache.addAll(languagePages(lang)).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const stale = (await ownCaches()).filter((name) => !CURRENT.includes(name));
    // Saved topics outlive a version: they are refreshed, then dropped (see refreshSaved).
    await Promise.all(stale.filter((name) => !name.startsWith(`${PREFIX}saved-`)).map((name) => caches.delete(name)));
    await self.clients.claim();
    const newGuidance = stale.some((name) => digestOf(name) !== digestOf(VERSION));
    if (newGuidance && !(await staleSaved()).length) broadcast({ type: 'updated' });
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (refreshing) event.waitUntil(refreshing);
  if (request.mode === 'navigate') {
    event.respondWith(navigate(event, url));
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(cacheFirst(request));
  }
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  const reply = (message) => (event.ports[0] || event.source).postMessage(message);
  const tasks = {
    hello: () => hello(event.source, data.saveData),
    list: async () => reply({ type: 'list', topics: await savedTopics() }),
    save: () => saveTopic(data.url, (done, total) => reply({ type: 'progress', done, total }))
      .then((saved) => reply({ type: saved ? 'saved' : 'failed' }), () => reply({ type: 'failed' })),
    remove: () => removeTopic(data.url).then(() => reply({ type: 'removed' })),
    settings: async () => reply({ type: 'settings', keep: (await setting(KEEP)) !== 'no' }),
    keep: () => keepPages(data.keep).then(() => reply({ type: 'settings', keep: data.keep })),
    refresh: () => refreshSaved(),
  };
  if (tasks[data.type]) event.waitUntil(tasks[data.type]());
});

async function navigate(event, url) {
  const lang = languageOf(url);
  const network = fetch(event.request);
  // In the background: keep a copy, and the offline pages of a language met for the first time.
  event.waitUntil(network.then(async (response) => {
    if (!response.ok || !(response.headers.get('Content-Type') || '').startsWith('text/html')) return;
    await keepRecent(url, response.clone());
    await keepCorridor(url, lang, response.clone());
    if (lang) await Promise.all([warmLanguage(lang), setting(LAST_LANGUAGE, lang)]);
  }).catch(() => {}));
  // Network first, but a weak signal must not keep a saved copy waiting for long.
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS, null));
  const first = await Promise.race([network.catch(() => null), timeout]);
  if (first && first.status < 500) return first;
  const saved = await fromCache(event.request);
  if (saved) return saved;
  const late = first || (await network.catch(() => null));
  if (late) return late;
  if (lang && url.pathname === `/${lang}/search`) return offlineSearch(lang, url.searchParams.get('q') || '');
  return offlinePage(lang);
}

async function offlinePage(lang) {
  // In the best language there is: the one asked for, else the last one read, else any.
  for (const code of [lang, await setting(LAST_LANGUAGE), ...LANGUAGES]) {
    const page = code && (await caches.match(`/${code}/offline`));
    if (page) return page;
  }
  return Response.error(); // only if the reader cleared the caches while the worker ran
}

async function setting(key, value) {
  // Read a setting, or store one when a value is given.
  const cache = await caches.open(SETTINGS);
  if (value !== undefined) return cache.put(key, new Response(value));
  const stored = await cache.match(key);
  return stored ? stored.text() : null;
}

async function keepRecent(url, response) {
  // Searches are not kept: what a reader looked for stays private. Nor are pages
  // the server marks no-store (trafficking, violence), nor anything once the reader said so.
  if (response.redirected || url.search || !languageOf(url) || url.pathname.endsWith('/search')) return;
  if (/no-store/.test(response.headers.get('Cache-Control') || '') || (await setting(KEEP)) === 'no') return;
  const cache = await caches.open(PAGES);
  await cache.put(url.pathname, response);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - RECENT_PAGES)).map((key) => cache.delete(key)));
}

// A remittance corridor the reader opens stays with their saved money topic, and its
// calculator with it (remittance.js, a hashed static file, is cached on first use).
const CORRIDOR = /^\/[^/]+\/remittances\/[A-Z]{3}-[A-Z]{3}$/;
async function keepCorridor(url, lang, response) {
  if (url.search || !CORRIDOR.test(url.pathname)) return;
  const cache = await caches.open(SAVED);
  if (await cache.match(`/${lang}/money${LIST}`)) await cache.put(url.pathname, response);
}

async function warmLanguage(lang) {
  // A reader who switches language gets that language's offline pages too.
  const cache = await caches.open(SHELL);
  if (!(await cache.match(`/${lang}/offline-search`))) await cache.addAll(languagePages(lang));
}

async function fromCache(request) {
  const cached = await caches.match(request, { ignoreVary: true, ignoreSearch: false });
  if (!cached) return null;
  // Mark the copy with the time it was saved; register.js shows it to the reader.
  const savedAt = new Date(cached.headers.get('Date') || Date.now()).toISOString();
  const html = (await cached.text()).replace('<html ', `<html data-saved-at="${savedAt}" `);
  return new Response(html, { status: 200, headers: copyHeaders(cached.headers) });
}

function copyHeaders(headers) {
  // The body is now plain text of a new length; everything else still holds, CSP included.
  const copy = new Headers(headers);
  ['Content-Encoding', 'Content-Length', 'ETag'].forEach((name) => copy.delete(name));
  return copy;
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await (await caches.open(SHELL)).put(request, response.clone());
  return response;
}

async function saveTopic(listUrl, progress = () => {}) {
  const listResponse = await fetch(listUrl, { cache: 'no-cache' });
  if (listResponse.status === 404) return false; // the topic is gone from the guidance
  if (!listResponse.ok) throw new Error(`${listUrl}: ${listResponse.status}`);
  const list = await listResponse.clone().json();
  const cache = await caches.open(SAVED);
  let done = 0;
  try {
    // One page at a time: gentle on a weak connection, and honest progress.
    for (const page of list.pages) {
      const response = await fetch(page, { cache: 'no-cache' });
      if (!response.ok || response.redirected) throw new Error(`${page}: ${response.status}`);
      await cache.put(page, response);
      progress(++done, list.pages.length);
    }
  } catch (error) {
    await Promise.all(list.pages.slice(0, done).map((page) => cache.delete(page)));
    throw error;
  }
  // The list goes in last: a topic counts as saved only once every page is.
  await cache.put(listUrl, listResponse);
  return true;
}

async function savedLists() {
  // Each saved topic's list, by path; from the current version's cache when it is there.
  const found = new Map();
  for (const name of await savedCaches()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (path.endsWith(LIST) && (!found.has(path) || name === SAVED)) found.set(path, { cache, request });
    }
  }
  return found;
}

async function savedTopics() {
  const topics = [];
  for (const [path, { cache, request }] of await savedLists()) {
    const response = await cache.match(request);
    const list = await response.json();
    topics.push({ list: path, url: list.url, name: list.name, label: list.label, lang: list.lang,
      dir: list.dir, savedAt: response.headers.get('Date') });
  }
  return topics;
}

async function removeTopic(listUrl) {
  const path = new URL(listUrl, self.location).pathname;
  for (const name of await savedCaches()) {
    const cache = await caches.open(name);
    const response = await cache.match(path);
    if (!response) continue;
    const list = await response.json();
    await cache.delete(path);
    // A page another saved topic also lists (the glossary) stays for that topic.
    const others = new Set();
    for (const request of await cache.keys()) {
      if (request.url.endsWith(LIST)) (await (await cache.match(request)).json()).pages.forEach((p) => others.add(p));
    }
    await Promise.all(list.pages.filter((page) => !others.has(page)).map((page) => cache.delete(page)));
  }
}

async function keepPages(keep) {
  // Turning keeping off also forgets every page kept so far, in every version's cache.
  await setting(KEEP, keep ? 'yes' : 'no');
  if (!keep) await Promise.all((await ownCaches()).filter((n) => n.startsWith(`${PREFIX}pages-`)).map((n) => caches.delete(n)));
}

async function staleSaved() {
  return (await savedCaches()).filter((name) => name !== SAVED);
}

async function hello(client, saveData) {
  // Every page makes sure its language's offline pages are here, even one opened mid-install.
  const lang = languageOf(client.url);
  if (lang) await Promise.all([warmLanguage(lang), setting(LAST_LANGUAGE, lang)]).catch(() => {});
  if (refreshing || !(await staleSaved()).length) return refreshing;
  // Save-Data: keep the old copies until the reader asks for new ones.
  if (saveData || (self.navigator.connection && self.navigator.connection.saveData)) {
    client.postMessage({ type: 'available' });
    return null;
  }
  return refreshSaved();
}

function refreshSaved() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    for (const name of await staleSaved()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (request.url.endsWith(LIST)) await saveTopic(request.url);
      }
      await caches.delete(name);
    }
    broadcast({ type: 'updated' });
  })().catch(() => {
    // A weak link dropped mid-way: the pages not yet refreshed keep their old copies
    // (their cache is deleted only once refreshed), and the reader is told.
    broadcast({ type: 'refresh-failed' });
  }).finally(() => { refreshing = null; });
  return refreshing;
}

async function offlineSearch(lang, query) {
  const page = await caches.match(`/${lang}/offline-search`);
  if (!page) return offlinePage(lang);
  const lists = [];
  for (const [, { cache, request }] of await savedLists()) lists.push(await (await cache.match(request)).json());
  return new Response(WaypostSearch.page(await page.text(), lists, lang, query), { headers: copyHeaders(page.headers) });
}

async function ownCaches() {
  return (await caches.keys()).filter((name) => name.startsWith(PREFIX));
}

async function savedCaches() {
  return (await ownCaches()).filter((name) => name.startsWith(`${PREFIX}saved-`));
}

async function broadcast(message) {
  for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage(message);
}
