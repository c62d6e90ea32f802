/* Waypost: "Save for offline" on topic pages, and the lists of saved topics.
   The service worker does the saving; every word shown comes from the page. */
(function () {
  'use strict';
  var container = navigator.serviceWorker;
  if (!container || !window.caches) return;
  var lang = document.documentElement.lang;

  // Ask the worker something and wait for its answer; progress reports come meanwhile.
  function ask(message, onProgress) {
    return container.ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) {
          if (event.data.type === 'progress') return onProgress && onProgress(event.data);
          channel.port1.close();
          resolve(event.data);
        };
        registration.active.postMessage(message, [channel.port2]);
      });
    });
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, key) { return key in values ? values[key] : match; });
  }

  var number = new Intl.NumberFormat(lang);
  var day = new Intl.DateTimeFormat(lang, { dateStyle: 'long' });

  function setUpSaving(box) {
    var button = box.querySelector('button');
    var progress = box.querySelector('progress');
    var status = box.querySelector('[role=status]');
    var say = function (name, values) {
      var message = box.querySelector('template[data-message="' + name + '"]').content.cloneNode(true);
      message.firstChild.textContent = fill(message.firstChild.textContent, values || {});
      status.replaceChildren(message);
    };
    box.hidden = false;
    ask({ type: 'list' }).then(function (answer) {
      var saved = answer.topics.some(function (t) { return t.list === box.dataset.list; });
      if (saved) say('saved');
    });
    button.addEventListener('click', function () {
      button.disabled = true;
      var estimate = navigator.storage && navigator.storage.estimate ? navigator.storage.estimate() : Promise.resolve(null);
      estimate.then(function (space) {
        if (space && space.quota - space.usage < Number(box.dataset.storage)) return { type: 'space' };
        progress.hidden = false;
        return ask({ type: 'save', url: box.dataset.list }, function (report) {
          progress.max = report.total;
          progress.value = report.done;
          say('saving', { done: number.format(report.done), total: number.format(report.total) });
        });
      }).then(function (answer) {
        progress.hidden = true;
        button.disabled = false;
        say(answer.type === 'saved' ? 'saved' : answer.type === 'space' ? 'space' : 'failed');
      });
    });
  }

  function listSaved(holder) {
    var list = holder.querySelector('ul');
    var empty = holder.querySelector('[data-saved-empty]');
    var template = holder.querySelector('template');
    ask({ type: 'list' }).then(function (answer) {
      list.replaceChildren();
      answer.topics.forEach(function (topic) {
        var item = template.content.firstElementChild.cloneNode(true);
        var link = item.querySelector('a');
        var date = item.querySelector('[data-field=date]');
        var remove = item.querySelector('button');
        item.lang = topic.lang;
        item.dir = topic.dir;
        link.href = topic.url;
        link.textContent = topic.name;
        item.querySelector('[data-field=label]').textContent = topic.label;
        date.textContent = fill(date.dataset.text, { date: day.format(new Date(topic.savedAt || Date.now())) });
        if (remove) {
          remove.setAttribute('aria-label', fill(remove.dataset.text, { topic: topic.name }));
          remove.addEventListener('click', function () {
            remove.disabled = true;
            ask({ type: 'remove', url: topic.list }).then(function () { listSaved(holder); });
          });
        }
        list.appendChild(item);
      });
      empty.hidden = answer.topics.length > 0;
    });
  }

  // "Don't keep pages on this phone": the worker stores the choice in its own cache, on the phone only.
  function setUpKeeping(box) {
    var checkbox = box.querySelector('input[type=checkbox]');
    var status = box.querySelector('[role=status]');
    ask({ type: 'settings' }).then(function (answer) { checkbox.checked = !answer.keep; });
    checkbox.addEventListener('change', function () {
      checkbox.disabled = true;
      ask({ type: 'keep', keep: !checkbox.checked }).then(function (answer) {
        checkbox.disabled = false;
        checkbox.checked = !answer.keep;
        var message = box.querySelector('template[data-message="' + (answer.keep ? 'on' : 'off') + '"]');
        status.replaceChildren(message.content.cloneNode(true));
      });
    });
  }

  container.ready.then(function () {
    var box = document.getElementById('wp-save');
    if (box) setUpSaving(box);
    var keep = document.getElementById('wp-keep');
    if (keep) setUpKeeping(keep);
    document.querySelectorAll('[data-needs-worker]').forEach(function (el) { el.hidden = false; });
    document.querySelectorAll('[data-saved-list]').forEach(listSaved);
  });
})();
