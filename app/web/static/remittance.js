/* Waypost: the remittance calculator without a server, for pages read offline.
   The same arithmetic as app/remittance_method.py: exact fractions of BigInts,
   rounded once, half away from zero, to two places. Words come from the page. */
(function () {
  'use strict';
  var TEN = BigInt(10), HUNDRED = BigInt(100), ZERO = BigInt(0), ONE = BigInt(1), TWO = BigInt(2);
  var DIGITS = { '\u066b': '.', '\u066c': '', '\u00a0': '', '\u202f': '', ' ': '', '\u2009': '' };

  // A number a reader typed, as a fraction [numerator, denominator]; null when it is not one.
  function readNumber(text) {
    var s = String(text).replace(/[\u0660-\u0669]/g, function (c) { return String(c.charCodeAt(0) - 0x0660); })
      .replace(/[\u06f0-\u06f9]/g, function (c) { return String(c.charCodeAt(0) - 0x06f0); })
      .replace(/[\u066b\u066c\u00a0\u202f \u2009]/g, function (c) { return DIGITS[c]; });
    s = s.indexOf('.') >= 0 ? s.replace(/,/g, '') : s.replace(/,/g, '.');
    if (!/^([0-9]+(\.[0-9]+)?|\.[0-9]+)$/.test(s)) return null;
    var parts = s.split('.'), frac = parts[1] || '';
    return [BigInt((parts[0] || '0') + frac), TEN ** BigInt(frac.length)];
  }
  function mul(a, b) { return [a[0] * b[0], a[1] * b[1]]; }
  function add(a, b) { return [a[0] * b[1] + b[0] * a[1], a[1] * b[1]]; }
  function neg(a) { return [-a[0], a[1]]; }
  function div(a, b) { return b[0] < ZERO ? [-a[0] * b[1], a[1] * -b[0]] : [a[0] * b[1], a[1] * b[0]]; }
  function cmp(a, b) { var d = a[0] * b[1] - b[0] * a[1]; return d > ZERO ? 1 : d < ZERO ? -1 : 0; }
  var H = [HUNDRED, ONE];
  // Two places, halves away from zero: Python's ROUND_HALF_UP.
  function shown(a) {
    var n = a[0] * HUNDRED, d = a[1], sign = n < ZERO ? '-' : '';
    if (n < ZERO) n = -n;
    var q = n / d;
    if (TWO * (n % d) >= d) q += ONE;
    var s = q.toString().padStart(3, '0');
    return (q === ZERO ? '' : sign) + s.slice(0, -2) + '.' + s.slice(-2);
  }
  function quote(amount, fee, rate, interbank, feeOnTop) {
    var zero = [ZERO, ONE];
    if (cmp(amount, zero) <= 0 || cmp(fee, zero) < 0 || cmp(rate, zero) <= 0 || (interbank && cmp(interbank, zero) <= 0)) return null;
    if (!feeOnTop && cmp(fee, amount) >= 0) return null;
    var paid = feeOnTop ? add(amount, fee) : amount, sent = feeOnTop ? amount : add(amount, neg(fee));
    var received = mul(sent, rate);
    var out = { paid: shown(paid), sent: shown(sent), fee: shown(fee), received: shown(received),
      fee_share: shown(div(mul(fee, H), amount)), cost: null, margin: null };
    if (interbank) {
      out.cost = shown(div(mul(add(mul(paid, interbank), neg(received)), H), mul(amount, interbank)));
      out.margin = shown(div(mul(add(interbank, neg(rate)), H), interbank));
    }
    return out;
  }
  if (typeof module !== 'undefined') { module.exports = { quote: quote, readNumber: readNumber }; return; }

  var form = document.querySelector('form.calculator'), box = document.getElementById('calc-result');
  var words = document.getElementById('calc-words');
  if (!form || !box || !words) return;
  var lang = document.documentElement.lang;
  function fmt(text, currency) {
    var n = Number(text);
    try { return currency ? n.toLocaleString(lang, { style: 'currency', currency: currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }) : n.toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + '%'; }
    catch (e) { return text; }
  }
  function say(name, values) {
    var part = words.content.querySelector('[data-message="' + name + '"]');
    if (!part) return document.createTextNode('');
    part = part.cloneNode(true);
    part.textContent = part.textContent.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
    return part;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var v = {};
    ['amount', 'fee', 'rate', 'interbank'].forEach(function (k) { v[k] = readNumber(form.elements[k].value); });
    var top = form.elements.fee_mode.value !== 'taken';
    var hasBank = form.elements.interbank.value.trim() !== '';
    var q = v.amount && v.fee && v.rate && (!hasBank || v.interbank) ? quote(v.amount, v.fee, v.rate, hasBank ? v.interbank : null, top) : null;
    var send = form.dataset.send, receive = form.dataset.receive, parts = [];
    if (!q) parts.push(say('wrong', {}));
    else {
      parts.push(say('paid', { paid: fmt(q.paid, send), received: fmt(q.received, receive) }));
      if (q.cost !== null) parts.push(say('cost', { cost: fmt(q.cost), fee: fmt(q.fee_share), margin: fmt(q.margin) }), say('average', {}));
      else parts.push(say('fee', { fee: fmt(q.fee_share) }));
    }
    box.replaceChildren.apply(box, parts);
    var query = new URLSearchParams(new FormData(form)).toString();
    history.replaceState(null, '', location.pathname + '?' + query + '#calculator');
  });
})();
