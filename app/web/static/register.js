/* Waypost: register the service worker and show what it reports.
   Every word shown comes from the page (template#wp-notices), never from here. */
(function () {
  'use strict';
  // "Leave quickly": the neutral site takes this page's place in the history, so Back does not return here.
  document.addEventListener('click', function (event) {
    var leave = event.target.closest && event.target.closest('a.leave');
    if (!leave || event.defaultPrevented || event.button !== 0) return;
    event.preventDefault();
    location.replace(leave.dataset.to || leave.href);
  });

  var container = navigator.serviceWorker;
  if (!container || !window.caches) return; // no worker: the site works exactly as without JavaScript
  var root = document.documentElement;

  function show(name, values) {
    var template = document.getElementById('wp-notices');
    var main = document.getElementById('main');
    var part = template && template.content.querySelector('[data-notice="' + name + '"]');
    if (!part || !main) return;
    var box = document.getElementById('wp-notice') || document.createElement('div');
    box.id = 'wp-notice';
    box.setAttribute('role', 'status');
    main.insertBefore(box, main.firstChild);
    // Filled a moment after the live region exists, so screen readers announce it.
    setTimeout(function () {
      var notice = part.cloneNode(true);
      notice.firstChild.textContent = notice.firstChild.textContent.replace('{date}', values && values.date);
      box.replaceChildren(notice);
    }, 50);
  }

  function hello(worker) {
    var saveData = !!(navigator.connection && navigator.connection.saveData);
    if (worker) worker.postMessage({ type: 'hello', saveData: saveData });
  }

  if (root.dataset.savedAt) {
    var when = new Date(root.dataset.savedAt);
    var format = new Intl.DateTimeFormat(root.lang, { dateStyle: 'long', timeStyle: 'short' });
    show('saved', { date: format.format(when) });
  }

  container.register('/sw.js', { scope: '/' }).catch(function () {});
  container.addEventListener('message', function (event) {
    var type = event.data && event.data.type;
    if (type === 'updated' || type === 'available' || type === 'refresh-failed') show(type);
  });
  container.addEventListener('controllerchange', function () { hello(container.controller); });
  hello(container.controller);
  // The worker claims the pages open when it activates, but not one still loading then (a reader
  // who tapped on while it installed over a slow link): that page stays without a controller, so
  // it greets the active worker itself, once the claim is over.
  var active = null;
  container.ready.then(function (registration) {
    active = registration.active;
    var greet = function () { if (!container.controller) hello(active); };
    if (active.state === 'activated') return greet();
    active.addEventListener('statechange', function () { if (active.state === 'activated') greet(); });
  });

  document.addEventListener('click', function (event) {
    var action = event.target.closest && event.target.closest('#wp-notice [data-action]');
    if (!action) return;
    if (action.dataset.action === 'reload') location.reload();
    var worker = container.controller || active;
    if (action.dataset.action === 'refresh' && worker) {
      action.disabled = true;
      worker.postMessage({ type: 'refresh' });
    }
  });
})();
