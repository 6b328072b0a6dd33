/**
 * The workspace's one small script (served at /admin/assets/admin.js; CSP allows only our own scripts):
 * drag-and-drop and arrow-key reordering of an issue's stories, saved through the JSON API with the session's
 * CSRF token. Every action also works without it (the Up / Down / Drop buttons are plain forms).
 */
export const ADMIN_SCRIPT = String.raw`(function () {
  'use strict';
  // Live progress of a send: poll the API until the send is no longer going.
  var box = document.getElementById('progress');
  if (!box || box.getAttribute('data-status') !== 'sending') return;
  var n = box.getAttribute('data-issue');
  function tick() {
    fetch('/api/v1/issues/' + n + '/delivery', { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (p) {
        if (!p) return setTimeout(tick, 3000);
        ['status', 'done', 'audience', 'accepted', 'failed', 'suppressed', 'skipped'].forEach(function (k) {
          var el = box.querySelector('[data-field="' + k + '"]');
          if (el) el.textContent = String(p[k]);
        });
        var bar = box.querySelector('progress');
        if (bar) { bar.max = Math.max(1, p.audience); bar.value = p.done; }
        box.setAttribute('data-status', p.status);
        if (p.status === 'sending') setTimeout(tick, 1000);
      }, function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
(function () {
  'use strict';
  var list = document.getElementById('entries');
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!list || !meta || !list.querySelector('[draggable="true"]')) return;
  var issue = list.getAttribute('data-issue');
  var status = document.getElementById('reorder-status');
  var csrf = meta.getAttribute('content');
  function items() { return Array.prototype.slice.call(list.querySelectorAll('li[data-id]')); }
  function say(text) { if (status) status.textContent = text; }
  function renumber() {
    items().forEach(function (li, i) {
      var strong = li.querySelector('.title strong');
      if (strong) strong.textContent = strong.textContent.replace(/^\d+\./, (i + 1) + '.');
    });
  }
  var saving = Promise.resolve();
  function save() {
    var ids = items().map(function (li) { return li.getAttribute('data-id'); });
    list.setAttribute('aria-busy', 'true');
    saving = saving.then(function () {
      return fetch('/api/v1/issues/' + issue + '/stories', {
        method: 'PUT', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept': 'application/json' },
        body: JSON.stringify({ narrativeIds: ids })
      }).then(function (res) {
        list.removeAttribute('aria-busy');
        if (!res.ok) return res.json().then(function (p) { say('Not saved: ' + (p.detail || p.title || res.status)); list.setAttribute('data-saved', 'error'); });
        renumber();
        list.setAttribute('data-saved', ids.join(','));
        say('Order saved.');
      }, function () { list.removeAttribute('aria-busy'); say('Not saved: the server could not be reached.'); });
    });
  }
  var dragged = null;
  list.addEventListener('dragstart', function (e) {
    var li = e.target.closest && e.target.closest('li[data-id]');
    if (!li) return;
    dragged = li; li.classList.add('dragging');
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', li.getAttribute('data-id'));
  });
  list.addEventListener('dragover', function (e) {
    if (!dragged) return;
    e.preventDefault();
    var over = e.target.closest && e.target.closest('li[data-id]');
    if (!over || over === dragged) return;
    var box = over.getBoundingClientRect();
    var after = e.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener('drop', function (e) { if (dragged) e.preventDefault(); });
  list.addEventListener('dragend', function () {
    if (!dragged) return;
    dragged.classList.remove('dragging'); dragged = null;
    save();
  });
  list.addEventListener('keydown', function (e) {
    var handle = e.target.closest && e.target.closest('[data-move]');
    if (!handle || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    e.preventDefault();
    var li = handle.closest('li');
    var sibling = e.key === 'ArrowUp' ? li.previousElementSibling : li.nextElementSibling;
    if (!sibling) { say('Already ' + (e.key === 'ArrowUp' ? 'first.' : 'last.')); return; }
    list.insertBefore(li, e.key === 'ArrowUp' ? sibling : sibling.nextSibling);
    handle.focus();
    var pos = items().indexOf(li) + 1;
    say('Moved to position ' + pos + ' of ' + items().length + '.');
    save();
  });
})();
`;
