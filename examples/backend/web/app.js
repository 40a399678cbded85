// The reference backend's page: sign in, connect a bank through Plaid Link, see Items,
// accounts and transactions, sync, repair a login in update mode, disconnect.
// Plain JavaScript, no build step; it talks only to the backend (/api) and to Link.
'use strict';

(function () {
  var config = null;
  var linkLoaded = null;
  var user = sessionStorage.getItem('user') || '';
  // The item button the user last pressed: where focus goes back when the list is rebuilt.
  var lastAction = null;
  // Bumped at each sign-in and sign-out. A wait begun for an earlier user (a call to the
  // backend, a pause between polls) never ends (see settled), so whatever was waiting on it
  // (following a sync, checking a repair) stops rather than go on under the next user's id.
  var session = 0;
  var $ = function (id) { return document.getElementById(id); };

  function status(text, isError) {
    var el = $('status');
    el.textContent = text;
    el.className = isError ? 'error' : '';
  }

  // `promise`, settled only if the user is still the one who was signed in when it began.
  function settled(promise) {
    var began = session;
    return promise.then(function (value) {
      return began === session ? value : new Promise(function () {});
    });
  }

  function api(method, path, body) {
    return settled(call(method, path, body));
  }

  async function call(method, path, body) {
    var init = { method: method, headers: { 'x-user-id': user } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      return { status: 0, body: { error: 'The backend could not be reached (' + e.message + ').' } };
    }
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, body: data || {} };
  }

  // Plaid Link's script, loaded once, from where the backend says: Plaid's CDN, or the
  // offline sandbox's stand-in at the same path.
  function loadLink() {
    if (!linkLoaded) {
      linkLoaded = new Promise(function (resolve, reject) {
        var script = document.createElement('script');
        script.src = config.link_script;
        script.onload = function () { resolve(window.Plaid); };
        script.onerror = function () {
          linkLoaded = null;
          reject(new Error('Plaid Link could not be loaded from ' + config.link_script));
        };
        document.head.appendChild(script);
      });
    }
    return linkLoaded;
  }

  // Opens Link with a link token; resolves when the user is done, either way.
  async function openLink(token, onSuccess) {
    var Plaid = await loadLink();
    return new Promise(function (resolve) {
      var handler = Plaid.create({
        token: token,
        onSuccess: function (publicToken, metadata) {
          handler.destroy();
          // A failure here must show: the public token may not have reached the backend.
          Promise.resolve().then(function () { return onSuccess(publicToken, metadata || {}); })
            .catch(function (e) { status('The bank could not be connected (' + e.message + ').', true); })
            .then(resolve);
        },
        onExit: function (error, metadata) {
          handler.destroy();
          document.body.setAttribute('data-link-exit-status', (metadata && metadata.status) || '');
          if (error) {
            status((error.display_message || error.error_message || 'Link failed') +
              ' (' + error.error_code + ')', true);
          } else {
            status('You closed Link' + (metadata && metadata.institution
              ? ' at ' + metadata.institution.name : '') + '; nothing was connected.');
          }
          resolve();
        },
        onEvent: function (name) { document.body.setAttribute('data-link-event', name); }
      });
      handler.open();
    });
  }

  async function connect() {
    status('Opening Plaid Link…');
    var r = await api('POST', '/api/link-token');
    if (r.status !== 200) { return status(r.body.error || 'Could not start Link', true); }
    await openLink(r.body.link_token, async function (publicToken, metadata) {
      // Plaid documents `institution` as nullable: the exchange must not depend on it.
      var bank = (metadata.institution && metadata.institution.name) || 'your bank';
      status('Connecting ' + bank + '…');
      var added = await api('POST', '/api/items', { public_token: publicToken });
      if (added.status === 201) {
        status('Connected ' + bank + ': ' + added.body.accounts +
          ' accounts. Fetching transactions…');
        await refresh();
        if (added.body.sync_job) { await follow(added.body.sync_job); }
      } else {
        status(added.body.error || 'The bank could not be connected', true);
      }
    });
  }

  async function reconnect(item) {
    var r = await api('POST', '/api/items/' + item.item_id + '/link-token');
    if (r.status !== 200) { return status(r.body.error || 'Could not start Link', true); }
    await openLink(r.body.link_token, async function () {
      // Update mode gives no new public token: the Item is the same, and Plaid sends no
      // webhook for a repair made in the app's own Link (LOGIN_REPAIRED is for repairs made
      // elsewhere). A sync shows the login works again and clears the Item's error (409: one
      // is already queued, which does the same).
      var bank = item.institution || 'the bank';
      status('Checking the connection to ' + bank + '…');
      var started = await api('POST', '/api/items/' + item.item_id + '/sync');
      if (started.status !== 202 && started.status !== 409) {
        return status(started.body.error || 'Could not check the connection to ' + bank, true);
      }
      for (var i = 0; i < 50; i++) {
        var items = await refresh();
        var now = items.find(function (x) { return x.item_id === item.item_id; });
        if (now && !now.error) { return status('Reconnected ' + bank + '.'); }
        await sleep(200);
      }
      // Review round 17: the page said "Checking…" for good. A sync that started before
      // the repair may have failed with the old error; the next one clears it.
      status(bank + ' still reports a problem; try Sync now in a moment.', true);
    });
  }

  async function sync(item, button) {
    button.disabled = true;
    try {
      var r = await api('POST', '/api/items/' + item.item_id + '/sync');
      if (r.status === 202) {
        status('Sync started.');
        await follow(r.body.job_id);
      } else if (r.status === 409 && r.body.job_id) {
        status('A sync of this bank is already under way; following it.');
        await follow(r.body.job_id);
      } else if (r.status === 409) {
        status(r.body.error || 'A sync of this bank is already under way.', true);
      } else {
        status(r.body.error || 'Could not sync', true);
      }
    } finally {
      button.disabled = false;
    }
  }

  // Follows a sync job to its end, then shows the new state.
  async function follow(jobId) {
    for (var i = 0; i < 300; i++) {
      var r = await api('GET', '/api/jobs/' + jobId);
      if (r.status !== 200) {
        status(r.body.error || 'The sync could not be followed', true);
        return refresh();
      }
      if (r.body.state === 'done') {
        status('Synced: ' + r.body.added + ' new, ' + r.body.modified + ' changed, ' +
          r.body.removed + ' removed.');
        return refresh();
      }
      if (r.body.state === 'superseded' && r.body.next_job_id) {
        jobId = r.body.next_job_id; // a newer sync does the work: follow it
        continue;
      }
      if (r.body.state === 'failed') {
        status('The sync failed (' + r.body.error + ').', true);
        return refresh();
      }
      await sleep(200);
    }
    status('The sync is still running (it may be waiting to retry); reload the page later to see it.');
  }

  async function disconnect(item, button) {
    if (button.getAttribute('data-confirm') !== 'yes') {
      button.setAttribute('data-confirm', 'yes');
      button.textContent = 'Really disconnect?';
      // A name changed under focus is not always read out: the status line says it too.
      status('Press “Really disconnect?” to disconnect ' + (item.institution || 'the bank') + '.');
      return;
    }
    var r = await api('DELETE', '/api/items/' + item.item_id);
    status(r.status === 200 ? 'Disconnected ' + (item.institution || 'the bank') +
      '. Its transactions stay here.' : (r.body.error || 'Could not disconnect'), r.status !== 200);
    await refresh();
  }

  async function transactions(item, li, button) {
    var open = li.querySelector('.table-scroll');
    if (open) {
      open.remove();
      button.textContent = 'Show transactions';
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    var r = await api('GET', '/api/items/' + item.item_id + '/transactions?limit=50');
    if (r.status !== 200 || !Array.isArray(r.body.transactions)) {
      return status(r.body.error || 'Could not load the transactions', true);
    }
    var table = el('table', {}, [
      el('caption', { text: r.body.total + ' transactions, newest first' +
        (r.body.total > r.body.transactions.length ? ' (the latest ' + r.body.transactions.length + ' shown)' : '') }),
      el('thead', {}, [el('tr', {}, ['Date', 'Description', 'Category', 'Amount'].map(function (h) {
        return el('th', { text: h, scope: 'col' });
      }))]),
      el('tbody', {}, r.body.transactions.map(function (t) {
        return el('tr', {}, [
          el('td', { text: t.date }),
          el('td', { text: t.name + (t.pending ? ' (pending)' : '') }),
          el('td', { text: (t.category || '').replace(/_/g, ' ').toLowerCase() }),
          el('td', { text: (-t.amount).toFixed(2), className: 'amount' })
        ]);
      }))
    ]);
    // Its own scrolling box, reachable by keyboard, so a narrow screen scrolls the table
    // alone (review round 20: at 320 px the whole card scrolled sideways).
    li.appendChild(el('div', { id: li.id + '-transactions', className: 'table-scroll', role: 'region',
      tabindex: '0', 'aria-label': 'Transactions at ' + (item.institution || 'the bank') }, [table]));
    button.textContent = 'Hide transactions';
    button.setAttribute('aria-expanded', 'true');
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = props[k]; }
      else if (k === 'className') { node.className = props[k]; }
      else { node.setAttribute(k, props[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function sleep(ms) { return settled(new Promise(function (r) { setTimeout(r, ms); })); }

  async function refresh() {
    var r = await api('GET', '/api/items');
    if (r.status !== 200) {
      status(r.body.error || 'Could not load your banks', true);
      return [];
    }
    var items = r.body.items || [];
    var list = $('items');
    // Focus inside the list goes back to the same button of the rebuilt Item, or to its name
    // if the button is gone; focus lost to <body> (a button disabled while it worked) goes to
    // the button the user last pressed.
    var active = document.activeElement;
    var refocus = null;
    if (active && active !== document.body && list.contains(active)) {
      var holder = active.closest('li.item');
      refocus = holder && { id: holder.id, action: active.getAttribute('data-action') };
    } else if (!active || active === document.body) {
      refocus = lastAction;
    }
    list.textContent = '';
    $('empty').hidden = items.length > 0;
    items.forEach(function (item) {
      var li = el('li', { id: 'item-' + item.item_id, className: 'item', 'data-status': item.status });
      // Both are repaired in Link's update mode: a login the bank wants again, and access the
      // user took back (Plaid: "To attempt to restore the Item, it can be sent through update
      // mode").
      var needsLogin = item.error === 'ITEM_LOGIN_REQUIRED';
      var revoked = item.error === 'USER_PERMISSION_REVOKED';
      var facts = item.accounts + ' accounts · ' + item.transactions + ' transactions · ' +
        (item.last_synced_at ? 'synced ' + new Date(item.last_synced_at).toLocaleString() : 'not synced yet') +
        (item.status === 'disconnected' ? ' · disconnected' : '');
      var button = function (action, label, fn, cls) {
        // Named with its bank for a screen reader's list of buttons ("Sync now" × 3 says little).
        var b = el('button', { type: 'button', 'data-action': action, className: cls || '',
          'aria-describedby': li.id + '-name' });
        b.textContent = label;
        b.addEventListener('click', function () {
          lastAction = { id: li.id, action: action };
          Promise.resolve(fn(item, b, li)).catch(function (e) { status(e.message, true); });
        });
        return b;
      };
      li.appendChild(el('h3', { id: li.id + '-name', text: item.institution || 'A bank', tabindex: '-1' }));
      li.appendChild(el('p', { className: 'facts muted', text: facts }));
      if (item.error && item.status === 'active') {
        li.appendChild(el('p', { className: 'warning', 'data-error': item.error, text: needsLogin
          ? 'Your bank asks you to log in again before we can update it.'
          : revoked ? 'You took back our access to this bank. Reconnect to allow it again.'
          : 'The bank connection has a problem (' + item.error + ').' }));
      } else if (item.sync_error && item.status === 'active') {
        li.appendChild(el('p', { className: 'warning', 'data-sync-error': item.sync_error,
          text: 'Updating this bank failed (' + item.sync_error + '); it is tried again.' }));
      }
      var actions = el('div', { className: 'actions' });
      if (item.status === 'active') {
        if (needsLogin || revoked) { actions.appendChild(button('reconnect', 'Reconnect', reconnect, 'primary')); }
        actions.appendChild(button('sync', 'Sync now', sync));
      }
      var shows = button('transactions', 'Show transactions', function (i, b, l) { return transactions(i, l, b); });
      shows.setAttribute('aria-expanded', 'false');
      shows.setAttribute('aria-controls', li.id + '-transactions');
      actions.appendChild(shows);
      if (item.status === 'active') {
        actions.appendChild(button('disconnect', 'Disconnect', disconnect, 'danger'));
      }
      li.appendChild(actions);
      list.appendChild(li);
    });
    if (refocus) {
      var again = document.getElementById(refocus.id);
      var target = again && ((refocus.action && again.querySelector('[data-action="' + refocus.action + '"]')) ||
        again.querySelector('h3'));
      (target || $('connect')).focus();
    }
    document.body.setAttribute('data-items', String(items.length));
    return items;
  }

  // Nothing of the previous user stays: their banks, the last message, their loops.
  function forget() {
    session += 1;
    lastAction = null;
    $('items').textContent = '';
    $('empty').hidden = true;
    document.body.setAttribute('data-items', '0');
    status('');
  }

  function show() {
    $('signin').hidden = !!user;
    $('account').hidden = !user;
    $('whoami').textContent = user;
    if (user) { return refresh(); }
  }

  async function start() {
    config = await (await fetch('/api/config')).json();
    if (config.offline) {
      var mode = $('mode');
      mode.hidden = false;
      mode.textContent = 'Offline: Plaid is the plaid-sandbox emulator, Link included. ' +
        'Log in with user_good / pass_good.';
    }
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      forget();
      user = $('user').value.trim();
      sessionStorage.setItem('user', user);
      show();
      // The form is hidden with the focus in it: focus goes to what replaced it (review round
      // 20: it fell to <body>, and a screen reader said nothing).
      $('account-heading').focus();
    });
    $('signout').addEventListener('click', function () {
      forget();
      user = '';
      sessionStorage.removeItem('user');
      show();
      $('user').focus();
    });
    $('connect').addEventListener('click', function () {
      connect().catch(function (e) { status(e.message, true); });
    });
    await show();
    document.body.setAttribute('data-ready', 'true');
  }

  start().catch(function (e) { status(e.message, true); });
})();
