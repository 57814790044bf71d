// Kiosk page entry point: keeps the socket to the daemon, renders the state it
// sends, and holds the two UI-only preferences (language, large text).

import { loadStrings, translate, has, DEFAULT_LANG, LANGS } from './i18n.js';
import { KioskSocket } from './connection.js';
import { formatDate, formatInstantWib } from './format.js';
import { idleScreen, readingScreen, statusScreen, errorScreen, offlineScreen } from './screens.js';
import { guidanceScreen, forgetGuidanceAnswers } from './guidance.js';
import { DemoPanel } from './demo.js';
import { OperatorPanel } from './operator.js';
import { h } from './dom.js';
import { icon } from './icons.js';
import { fitLargeText } from './fit.js';
import { stopSpeech } from './speech.js';
import { loadSchema } from './schema.js';

const READING_DELAY_MS = 150;   // "Tahan kartu…" only when reading takes longer than this
const TOUCH_THROTTLE_MS = 1000; // the daemon only needs to know someone is still there
const OFFLINE_WIPE_MS = 20000;  // without the daemon no timer can clear the screen, so we do
const PERSONAL_SCREENS = new Set(['status', 'guidance']);
const PREFS_KEY = 'kb.prefs';

const root = document.getElementById('screen');
const topbar = document.getElementById('topbar');
const connBanner = document.getElementById('conn-banner');

let prefs = loadPrefs();
let latest = null;
let renderedKey = null;
let renderedScreen = 'boot';
let readingTimer = null;
let offlineTimer = null;
let lastTouch = 0;

const socket = new KioskSocket({ onState: receive, onOpen: connected, onClose: disconnected });
const demo = new DemoPanel(document.getElementById('demo-root'), makeCtx);
const operator = new OperatorPanel(document.getElementById('operator-root'), makeCtx);

function loadPrefs() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(PREFS_KEY) ?? '{}');
    return { lang: LANGS.includes(saved.lang) ? saved.lang : DEFAULT_LANG, large: saved.large === true };
  } catch {
    return { lang: DEFAULT_LANG, large: false };
  }
}

function setPrefs(next) {
  prefs = { ...prefs, ...next };
  try {
    sessionStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // storage unavailable: preferences last until reload, which is fine
  }
  renderChrome();
  if (latest) render(latest, true);
  operator.rerender();
}

function makeCtx() {
  const lang = prefs.lang;
  return {
    lang,
    t: (key, vars) => translate(lang, key, vars),
    has: (key) => has(lang, key),
    date: (ymd) => formatDate(ymd, lang),
    instant: (iso) => formatInstantWib(iso, lang),
    send: (action) => socket.send(action),
    refit: () => fitLargeText(root, prefs.large),
  };
}

function renderChrome() {
  const ctx = makeCtx();
  document.documentElement.lang = prefs.lang;
  document.documentElement.classList.toggle('large', prefs.large);
  topbar.replaceChildren(
    h('div', { class: 'brand' },
      h('span', { class: 'brand-mark' }, icon('heart')),
      h('span', { class: 'brand-text' },
        h('span', { class: 'brand-name', text: ctx.t('app.name') }),
        h('span', { class: 'brand-city', text: ctx.t('app.city') }))),
    h('div', { class: 'prefs' },
      h('div', { class: 'lang-switch', role: 'group', 'aria-label': ctx.t('pref.language') },
        icon('globe', { className: 'icon prefs-icon' }),
        LANGS.map((lang) => h('button', {
          type: 'button', class: 'pref-btn', lang, 'data-lang': lang, 'aria-pressed': String(prefs.lang === lang),
          onclick: () => setPrefs({ lang }),
        }, translate(lang, 'lang_name')))),
      h('button', {
        type: 'button', class: 'pref-btn large-toggle', 'data-pref': 'large', 'aria-pressed': String(prefs.large),
        onclick: () => setPrefs({ large: !prefs.large }),
      }, icon('textsize'), h('span', { text: ctx.t('pref.large') }))));
}

function receive(state) {
  latest = state;
  demo.update(state);
  operator.update(state);
  document.getElementById('dev-badge').hidden = state.dev !== true;
  if (state.screen === 'reading' && !PERSONAL_SCREENS.has(renderedScreen)) {
    // Most taps resolve within a blink; don't flash "hold the card" for those.
    if (!readingTimer) {
      readingTimer = setTimeout(() => {
        readingTimer = null;
        if (latest?.screen === 'reading') render(latest);
      }, READING_DELAY_MS);
    }
    return;
  }
  clearTimeout(readingTimer);
  readingTimer = null;
  render(state);
}

function render(state, force = false) {
  const key = JSON.stringify([state.screen, state.error, state.guidance, state.tap, state.demo,
    state.data?.freshness, state.data?.signed_at, state.data?.last_sync_error, prefs.lang, prefs.large,
    // The idle footer's age and last sync (not on a citizen's screens: those are not redrawn for it).
    state.screen === 'idle' ? [state.data?.last_sync, Math.floor((state.data?.age_seconds ?? 0) / 3600)] : null]);
  if (!force && key === renderedKey) return;
  if (state.screen === 'idle' && PERSONAL_SCREENS.has(renderedScreen) && (prefs.lang !== DEFAULT_LANG || prefs.large)) {
    // The person has gone: the next citizen starts in the default language and size.
    prefs = { lang: DEFAULT_LANG, large: false };
    try { sessionStorage.removeItem(PREFS_KEY); } catch { /* ignore */ }
    renderChrome();
  }
  if (!PERSONAL_SCREENS.has(state.screen)) forgetGuidanceAnswers();
  stopSpeech(); // a new screen: whatever was being read no longer shows
  const ctx = makeCtx();
  let node;
  switch (state.screen) {
    case 'reading': node = readingScreen(state, ctx); break;
    case 'status': node = state.tap ? statusScreen(state, ctx) : errorScreen({ ...state, error: 'READ_ERROR' }, ctx); break;
    case 'guidance': node = state.tap ? guidanceScreen(state, ctx) : errorScreen({ ...state, error: 'READ_ERROR' }, ctx); break;
    case 'error': node = errorScreen(state, ctx); break;
    default: node = idleScreen(state, ctx); break;
  }
  // replaceChildren drops the old subtree: a screen that is left keeps nothing in the DOM.
  root.replaceChildren(node);
  root.scrollTop = 0;
  fitLargeText(root, prefs.large);
  renderedKey = key;
  renderedScreen = state.screen;
  document.body.dataset.screen = state.screen;
  document.body.dataset.error = state.error ?? '';
  document.body.dataset.seq = String(state.seq ?? '');
}

function connected() {
  clearTimeout(offlineTimer);
  offlineTimer = null;
  connBanner.hidden = true;
  connBanner.replaceChildren();
}

function disconnected() {
  const ctx = makeCtx();
  connBanner.replaceChildren(icon('warn'), h('span', { text: ctx.t('banner.reconnecting') }));
  connBanner.hidden = false;
  if (!offlineTimer) {
    offlineTimer = setTimeout(() => {
      offlineTimer = null;
      if (socket.connected) return;
      latest = null;
      renderedKey = null;
      renderedScreen = 'offline';
      root.replaceChildren(offlineScreen(makeCtx()));
      document.body.dataset.screen = 'offline';
      document.body.dataset.error = '';
    }, OFFLINE_WIPE_MS);
  }
}

function onPointerDown() {
  const now = Date.now();
  if (now - lastTouch < TOUCH_THROTTLE_MS) return;
  lastTouch = now;
  socket.send({ action: 'touch' });
}

// Before the first state is drawn: the texts, and the domain's lists from the daemon
// (GET /api/schema). The page comes from the daemon, so a failure is passing (it is
// restarting): the kiosk shows "connecting" and tries again rather than drawing from
// lists of its own, which could disagree with the data the daemon serves.
async function boot() {
  let connecting = false;
  for (;;) {
    try {
      await Promise.all([loadStrings(), loadSchema()]);
      break;
    } catch {
      if (!connecting && has(DEFAULT_LANG, 'offline.title')) {
        connecting = true;
        renderChrome();
        root.replaceChildren(offlineScreen(makeCtx()));
        document.body.dataset.screen = 'connecting';
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  renderChrome();
  root.replaceChildren(offlineScreen(makeCtx()));
  document.body.dataset.screen = 'connecting';
  document.body.dataset.schema = 'loaded';
  document.addEventListener('pointerdown', onPointerDown, { capture: true, passive: true });
  // No browser menu on a long press or right click: nothing there is for a citizen.
  document.addEventListener('contextmenu', (event) => event.preventDefault(), { capture: true });
  socket.start();
}

boot();
