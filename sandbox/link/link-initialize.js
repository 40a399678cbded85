/*
 * Offline emulator of Plaid Link's web SDK (the stand-in for
 * https://cdn.plaid.com/link/v2/stable/link-initialize.js), served by the
 * plaid-sandbox crate at /link/v2/stable/link-initialize.js.
 *
 * Defines window.Plaid.create(config) -> {open, exit, destroy, submit}. Each
 * handler loads BASE/link/emulator.html in its own full-viewport iframe
 * (id plaid-link-iframe-N, hidden until open()) and talks to it with
 * postMessage. BASE is where this script was loaded from. No dependencies, no
 * network access other than to BASE, nothing stored.
 *
 * Protocol (every message is an object with `plaidLinkEmulator: 1`):
 *   page -> parent: {type: "ready"}
 *                   {type: "event", eventName, metadata}
 *                   {type: "success", public_token, metadata}
 *                   {type: "exit", error, metadata}
 *   parent -> page: {type: "open"}
 *                   {type: "exit", force: boolean}
 *                   {type: "submit", data}
 * The page posts to the origin it was given in its URL (?origin=); the parent
 * accepts only messages whose source is its own iframe's window and whose
 * origin is that iframe's origin, and posts to that origin only.
 */
(function () {
  'use strict';

  if (window.Plaid && window.Plaid.__offlineEmulator) {
    return; // loaded twice: keep the first copy (and its base URL)
  }

  var SCRIPT_PATH = '/link/v2/stable/link-initialize.js';
  var MARK = 'plaidLinkEmulator';
  var FORCE_EXIT_TIMEOUT_MS = 3000;
  // The page's scrolling, stopped while a Link is shown, shared by every handler and given
  // back when the last one shown is hidden (review round 21: each handler saved and gave it
  // back on its own, and two at once, as react-plaid-link makes on a token change, left the
  // page unscrollable). The page is not made inert: Plaid's Link leaves it as it is, and an
  // app's modal that traps focus fights Plaid's frame for it, so it must fight this one.
  var overflowHolders = 0;
  var savedPageOverflow = null;

  function scriptUrl() {
    var current = document.currentScript;
    if (current && current.src && /link-initialize\.js(?:[?#].*)?$/.test(current.src)) {
      return current.src;
    }
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/link-initialize\.js(?:[?#].*)?$/.test(scripts[i].src || '')) {
        return scripts[i].src;
      }
    }
    return current && current.src ? current.src : null;
  }

  // BASE: the script's URL less /link/v2/stable/link-initialize.js (so a
  // sandbox mounted under a path prefix works), else the script's origin.
  function baseFrom(src) {
    if (!src) {
      return window.location.origin;
    }
    var url = new URL(src, window.location.href);
    var path = url.pathname;
    var base = url.origin;
    if (path.slice(-SCRIPT_PATH.length) === SCRIPT_PATH) {
      base += path.slice(0, path.length - SCRIPT_PATH.length);
    }
    return base;
  }

  var BASE = baseFrom(scriptUrl());
  var EMULATOR_URL = BASE + '/link/emulator.html';
  var EMULATOR_ORIGIN = new URL(EMULATOR_URL, window.location.href).origin;
  var counter = 0;

  function later(fn) {
    setTimeout(fn, 0);
  }

  // Runs an application callback; its exceptions surface without breaking the
  // emulator's own bookkeeping.
  function call(fn, args) {
    if (typeof fn !== 'function') {
      return;
    }
    try {
      fn.apply(null, args);
    } catch (e) {
      later(function () {
        throw e;
      });
    }
  }

  function whenBody(fn) {
    if (document.body) {
      fn();
    } else {
      document.addEventListener('DOMContentLoaded', fn, { once: true });
    }
  }

  function create(config) {
    config = config || {};
    counter += 1;
    var id = 'plaid-link-iframe-' + counter;
    var iframe = document.createElement('iframe');
    var loaded = false;
    var isOpen = false;
    var openQueued = false;
    var destroyed = false;
    var loadFired = false;
    var exitCallbacks = [];
    var forceTimer = null;
    var reopen = false;
    // Reloading the page after a forced exit it did not answer: what it sends before it is
    // ready again is stale.
    var restarting = false;
    var lastSessionId = null;
    var lastRequestId = null;
    var returnFocus = null;
    // Whether this handler counts among overflowHolders.
    var holdsPage = false;

    var token = config.token == null ? '' : String(config.token);
    var src =
      EMULATOR_URL +
      '?token=' + encodeURIComponent(token) +
      '&origin=' + encodeURIComponent(window.location.origin);

    iframe.id = id;
    iframe.name = id;
    iframe.title = 'Plaid Link (offline emulator)';
    iframe.setAttribute('allowtransparency', 'true');
    iframe.setAttribute('aria-hidden', 'true');
    var style = iframe.style;
    style.position = 'fixed';
    style.top = '0';
    style.left = '0';
    style.width = '100%';
    style.height = '100%';
    style.border = '0';
    style.margin = '0';
    style.padding = '0';
    style.zIndex = '2147483647';
    style.background = 'transparent';
    style.colorScheme = 'normal';
    style.display = 'none';
    iframe.src = src;

    function post(message) {
      if (destroyed || !iframe.contentWindow) {
        return;
      }
      message[MARK] = 1;
      iframe.contentWindow.postMessage(message, EMULATOR_ORIGIN);
    }

    function show() {
      if (isOpen) {
        return;
      }
      isOpen = true;
      returnFocus = document.activeElement;
      holdPage(true);
      iframe.style.display = 'block';
      iframe.removeAttribute('aria-hidden');
      iframe.focus();
      post({ type: 'open' });
    }

    function holdPage(on) {
      if (on === holdsPage) {
        return;
      }
      holdsPage = on;
      if (on) {
        overflowHolders += 1;
        if (overflowHolders === 1 && document.body) {
          savedPageOverflow = document.body.style.overflow;
          document.body.style.overflow = 'hidden';
        }
        return;
      }
      overflowHolders -= 1;
      if (overflowHolders === 0) {
        if (document.body && savedPageOverflow !== null) {
          document.body.style.overflow = savedPageOverflow;
        }
        savedPageOverflow = null;
      }
    }

    function hide() {
      if (!isOpen) {
        return;
      }
      isOpen = false;
      iframe.style.display = 'none';
      iframe.setAttribute('aria-hidden', 'true');
      holdPage(false);
      var target = returnFocus;
      returnFocus = null;
      if (target && typeof target.focus === 'function' && document.contains(target)) {
        try {
          target.focus();
        } catch (e) {
          /* ignore */
        }
      }
    }

    function runExitCallbacks() {
      var callbacks = exitCallbacks;
      exitCallbacks = [];
      for (var i = 0; i < callbacks.length; i++) {
        call(callbacks[i], []);
      }
      // An open() that came while a forced exit was closing Link: open again now.
      if (reopen && !destroyed && !isOpen) {
        reopen = false;
        open();
      }
      reopen = false;
    }

    // Plaid's Link sends OPEN (and Layer's events) as they happen and the rest at the end of
    // the flow, with onSuccess or onExit: so does this one, and a page that acts on a
    // mid-flow event fails here as it would at Plaid.
    var REAL_TIME_EVENTS = ['OPEN', 'LAYER_READY', 'LAYER_NOT_AVAILABLE', 'LAYER_AUTOFILL_NOT_AVAILABLE'];
    var heldEvents = [];

    function deliverHeldEvents() {
      var events = heldEvents;
      heldEvents = [];
      for (var i = 0; i < events.length; i++) {
        call(config.onEvent, events[i]);
      }
    }

    function finished() {
      if (forceTimer) {
        clearTimeout(forceTimer);
        forceTimer = null;
      }
      hide();
      deliverHeldEvents();
    }

    function onMessage(event) {
      if (destroyed || event.source !== iframe.contentWindow || event.origin !== EMULATOR_ORIGIN) {
        return;
      }
      var data = event.data;
      if (!data || typeof data !== 'object' || data[MARK] !== 1) {
        return;
      }
      if (restarting) {
        if (data.type !== 'ready') {
          return;
        }
        restarting = false;
      }
      switch (data.type) {
        case 'ready':
          if (loaded) {
            return;
          }
          loaded = true;
          if (!loadFired) {
            loadFired = true;
            call(config.onLoad, []);
          }
          if (openQueued && !destroyed) {
            openQueued = false;
            show();
          }
          break;
        case 'event':
          if (data.metadata) {
            lastSessionId = data.metadata.link_session_id || lastSessionId;
            lastRequestId = data.metadata.request_id || lastRequestId;
          }
          if (REAL_TIME_EVENTS.indexOf(data.eventName) >= 0) {
            call(config.onEvent, [data.eventName, data.metadata]);
          } else {
            heldEvents.push([data.eventName, data.metadata]);
          }
          break;
        case 'success':
          finished();
          call(config.onSuccess, [data.public_token, data.metadata]);
          runExitCallbacks();
          break;
        case 'exit':
          finished();
          call(config.onExit, [data.error || null, data.metadata]);
          runExitCallbacks();
          break;
        default:
          break;
      }
    }

    window.addEventListener('message', onMessage);
    whenBody(function () {
      if (!destroyed) {
        document.body.appendChild(iframe);
      }
    });

    function open() {
      if (destroyed) {
        if (window.console) {
          console.warn('Plaid Link emulator: open() called on a destroyed handler');
        }
        return;
      }
      if (isOpen) {
        if (forceTimer) {
          reopen = true; // closing after exit({force: true}): open once it has
        }
        return;
      }
      if (!loaded) {
        openQueued = true; // Plaid delays open() until the module has loaded
        return;
      }
      show();
    }

    function exit(options, callback) {
      if (typeof options === 'function') {
        callback = options;
        options = {};
      }
      options = options || {};
      var force = options.force === true;
      if (destroyed || !isOpen) {
        openQueued = false;
        if (typeof callback === 'function') {
          later(function () {
            call(callback, []);
          });
        }
        return;
      }
      if (typeof callback === 'function') {
        exitCallbacks.push(callback);
      }
      if (force) {
        iframe.style.display = 'none';
        holdPage(false); // Link is out of sight: the page is the user's again
        post({ type: 'exit', force: true });
        if (!forceTimer) {
          // The page did not answer (gone or stuck): exit with what is known.
          forceTimer = setTimeout(function () {
            forceTimer = null;
            if (!isOpen) {
              return;
            }
            // Start the page afresh, so that nothing it still had pending (its own EXIT and
            // onExit) comes late and closes a Link opened again; open() waits for it.
            loaded = false;
            restarting = true;
            iframe.src = src;
            exitWithWhatIsKnown();
          }, FORCE_EXIT_TIMEOUT_MS);
        }
      } else {
        post({ type: 'exit', force: false });
      }
    }

    // A forced exit the page did not answer in time, or a handler destroyed before it did:
    // onExit with what this side knows (Plaid: an exit calls onExit).
    function exitWithWhatIsKnown() {
      finished();
      // Every onExit comes with an EXIT event (Plaid's event list).
      call(config.onEvent, [
        'EXIT',
        {
          exit_status: null,
          view_name: 'EXIT',
          link_session_id: lastSessionId,
          request_id: lastRequestId,
          timestamp: new Date().toISOString()
        }
      ]);
      call(config.onExit, [
        null,
        {
          institution: null,
          status: null,
          link_session_id: lastSessionId,
          request_id: lastRequestId
        }
      ]);
      runExitCallbacks();
    }

    function destroy() {
      if (destroyed) {
        return;
      }
      // Destroyed right after exit({force: true}), before the page answered: the onExit that
      // exit owes comes now (review round 21: it was dropped). Destroyed first, so that a
      // callback calling destroy() or open() again finds it so.
      var owed = forceTimer !== null && isOpen;
      destroyed = true;
      if (owed) {
        exitWithWhatIsKnown();
      }
      if (forceTimer) {
        clearTimeout(forceTimer);
        forceTimer = null;
      }
      hide();
      openQueued = false;
      exitCallbacks = [];
      heldEvents = [];
      window.removeEventListener('message', onMessage);
      if (iframe.parentNode) {
        iframe.parentNode.removeChild(iframe);
      }
    }

    function submit(data) {
      // Layer's submit(): nothing to do in the emulator beyond passing it on.
      post({ type: 'submit', data: data == null ? null : data });
    }

    return { open: open, exit: exit, destroy: destroy, submit: submit };
  }

  // Embedded Link: a button in the target that opens the modal flow.
  function createEmbedded(config, target) {
    var handler = create(config);
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Connect a bank account (offline Plaid Link emulator)';
    button.addEventListener('click', function () {
      handler.open();
    });
    if (target && target.appendChild) {
      target.appendChild(button);
    }
    return {
      destroy: function () {
        handler.destroy();
        if (button.parentNode) {
          button.parentNode.removeChild(button);
        }
      }
    };
  }

  window.Plaid = {
    create: create,
    createEmbedded: createEmbedded,
    __offlineEmulator: true,
    __emulatorBase: BASE
  };
})();
