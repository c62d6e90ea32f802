/* Waypost: "Show the nearest first" on a place page. The phone's position is read once,
   compared with the coordinates already on the page (data-at) and never sent anywhere.
   Every word shown comes from the page (template#wp-near). */
(function () {
  'use strict';
  var template = document.getElementById('wp-near');
  // Browsers give a position only to secure origins: on a plain-HTTP kiosk there is no button at all.
  if (!template || !window.isSecureContext || !navigator.geolocation) return;
  var box = template.content.firstElementChild.cloneNode(true);
  var button = box.querySelector('button');
  var status = box.querySelector('[role=status]');
  var km = new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 1 });
  var busy = false;

  function message(name) {
    return box.querySelector('template[data-message="' + name + '"]').content.textContent.trim();
  }
  function say(name) { status.textContent = message(name); }

  // Great-circle distance in km (haversine): plenty for "which one is closer" within a city.
  function distance(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180, dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 12742 * Math.asin(Math.min(1, Math.sqrt(a)));
  }
  function nearest(item, here) {
    var best = Infinity;
    (item.getAttribute('data-at') || '').split(' ').forEach(function (pair) {
      var at = pair.split(',');
      if (at.length === 2) best = Math.min(best, distance(here.latitude, here.longitude, Number(at[0]), Number(at[1])));
    });
    return best;
  }

  function sort(here) {
    Array.prototype.forEach.call(document.querySelectorAll('ul[data-near]'), function (list) {
      var items = Array.prototype.map.call(list.children, function (li, i) {
        if (!li.hasAttribute('data-order')) li.setAttribute('data-order', i);
        return { li: li, d: nearest(li, here), i: Number(li.getAttribute('data-order')) };
      });
      // Services without coordinates keep their usual order, after the others.
      items.sort(function (a, b) { return a.d === b.d ? a.i - b.i : (a.d < b.d ? -1 : 1); });
      items.forEach(function (x) {
        var label = x.li.querySelector('.distance');
        if (x.d !== Infinity) {
          if (!label) { label = document.createElement('p'); label.className = 'distance'; x.li.appendChild(label); }
          label.textContent = message('distance').replace('{km}', km.format(x.d));
        }
        list.appendChild(x.li);
      });
    });
  }

  button.addEventListener('click', function () {
    if (busy) return;
    busy = true;
    say('finding');
    navigator.geolocation.getCurrentPosition(function (position) {
      sort(position.coords);
      busy = false;
      say('sorted');
    }, function () {
      busy = false;
      say('failed');
    }, { enableHighAccuracy: false, timeout: 30000, maximumAge: 300000 });
  });
  template.parentNode.insertBefore(box, template);
})();
