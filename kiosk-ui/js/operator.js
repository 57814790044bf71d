// The kelurahan operator's screen: kiosk health and "sync now", nothing that
// changes data. Opened by holding the data footer of the idle screen for a few
// seconds (a citizen's tap on it does nothing); a PIN opens a session on the
// daemon (POST /api/operator/*, docs/contracts.md §4 "Operator"). It closes, and
// the citizen's idle screen returns, on "Exit", after a quiet minute, when the
// session ends, or as soon as a card is tapped.

import { h } from './dom.js';
import { ageText, syncErrorText } from './freshness.js';

const HOLD_MS = 3000;        // long press on the footer
const QUIET_MS = 60000;      // no touch on the panel: back to the citizen's screen
const POLL_MS = 2000;        // health refresh while shown
const MAX_DIGITS = 12;

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), cache: 'no-store',
  });
  let doc = null;
  try { doc = await res.json(); } catch { /* not JSON */ }
  return { status: res.status, doc: doc ?? {} };
}

export class OperatorPanel {
  constructor(root, getCtx) {
    this.root = root;
    this.getCtx = getCtx;
    this.mode = null; // null | 'pin' | 'health'
    this.pin = '';
    this.message = null; // { key, vars }
    this.token = null;
    this.health = null;
    this.syncNote = null;
    this.holdTimer = null;
    this.quietTimer = null;
    this.pollTimer = null;
    this.busy = false;
    document.addEventListener('pointerdown', (e) => this.holdStart(e), { capture: true });
    for (const type of ['pointerup', 'pointercancel', 'pointerleave']) {
      document.addEventListener(type, () => this.holdEnd(), { capture: true });
    }
    this.root.addEventListener('pointerdown', () => this.touched());
  }

  get open() { return this.mode !== null; }

  holdStart(event) {
    if (this.open || !event.target?.closest?.('.idle .data-footer')) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => { this.holdTimer = null; this.show(); }, HOLD_MS);
  }

  holdEnd() {
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }

  /** Called with every state: a citizen's tap takes the screen back at once. */
  update(state) {
    if (this.open && state?.screen && state.screen !== 'idle') this.close();
  }

  show() {
    this.mode = 'pin';
    this.pin = '';
    this.message = null;
    document.body.dataset.operator = 'pin';
    this.touched();
    this.render();
  }

  touched() {
    if (!this.open) return;
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.close(), QUIET_MS);
  }

  async close() {
    const token = this.token;
    this.mode = null;
    this.token = null;
    this.health = null;
    this.pin = '';
    this.syncNote = null;
    clearTimeout(this.quietTimer);
    clearInterval(this.pollTimer);
    this.pollTimer = null;
    delete document.body.dataset.operator;
    this.root.replaceChildren();
    if (token) {
      try { await post('/api/operator/logout', { token }); } catch { /* the session times out anyway */ }
    }
  }

  digit(d) {
    if (this.pin.length < MAX_DIGITS) this.pin += d;
    this.message = null;
    this.render();
  }

  async submit() {
    if (this.busy || this.pin.length === 0) return;
    this.busy = true;
    const pin = this.pin;
    this.pin = '';
    try {
      const { status, doc } = await post('/api/operator/login', { pin });
      if (status === 200 && doc.token) {
        this.token = doc.token;
        this.mode = 'health';
        document.body.dataset.operator = 'health';
        await this.refresh();
        this.pollTimer = setInterval(() => this.refresh(), POLL_MS);
      } else if (status === 429) {
        this.message = { key: 'operator.locked', vars: { minutes: Math.max(1, Math.ceil((doc.retry_after_seconds ?? 60) / 60)) }, code: 'LOCKED_OUT' };
      } else if (status === 401) {
        this.message = { key: 'operator.wrong_pin', vars: { left: doc.attempts_left ?? 0 }, code: 'WRONG_PIN' };
      } else if (status === 404) {
        this.message = { key: 'operator.not_configured', code: 'NO_OPERATOR' };
      } else {
        this.message = { key: 'operator.failed', code: doc.error ?? String(status) };
      }
    } catch {
      this.message = { key: 'operator.failed', code: 'NETWORK' };
    } finally {
      this.busy = false;
    }
    if (this.open) this.render();
  }

  async refresh() {
    if (!this.token) return;
    try {
      const { status, doc } = await post('/api/operator/status', { token: this.token });
      if (status !== 200) {
        this.close();
        return;
      }
      this.health = doc;
    } catch {
      return;
    }
    if (this.mode === 'health') this.render();
  }

  async syncNow() {
    if (!this.token) return;
    const { status, doc } = await post('/api/operator/sync', { token: this.token });
    this.syncNote = status === 202 ? 'operator.sync_requested'
      : doc.error === 'NO_MIRROR' ? 'operator.no_mirror' : 'operator.failed';
    this.render();
    setTimeout(() => this.refresh(), 500);
  }

  /** Language switch: draw again in the new language. */
  rerender() { if (this.open) this.render(); }

  render() {
    const ctx = this.getCtx();
    const body = this.mode === 'pin' ? this.pinView(ctx) : this.healthView(ctx);
    const section = h('section', {
      class: 'operator', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'operator-title', 'data-operator': this.mode,
    }, body);
    // Below the top bar, so the language switch stays in reach (CSSOM: the CSP allows no style attributes).
    section.style.top = `${Math.round(document.getElementById('topbar')?.getBoundingClientRect().bottom ?? 0)}px`;
    this.root.replaceChildren(section);
  }

  pinView(ctx) {
    const key = (label, onclick, extra = {}) => h('button', { type: 'button', class: 'btn op-key', onclick, ...extra }, label);
    const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => key(d, () => this.digit(d), { 'data-key': d }));
    return [
      h('h1', { id: 'operator-title', class: 'op-title', text: ctx.t('operator.title') }),
      h('p', { class: 'op-hint', text: ctx.t('operator.pin_hint') }),
      h('p', { class: 'op-pin', 'data-pin-length': String(this.pin.length), 'aria-live': 'polite' },
        this.pin.length ? '•'.repeat(this.pin.length) : ' '),
      this.message
        ? h('p', { class: 'op-message', role: 'alert', 'data-code': this.message.code, text: ctx.t(this.message.key, this.message.vars) })
        : null,
      h('div', { class: 'op-keypad' }, digits,
        key('⌫', () => { this.pin = this.pin.slice(0, -1); this.render(); }, { 'data-key': 'back', 'aria-label': ctx.t('operator.delete') }),
        key('0', () => this.digit('0'), { 'data-key': '0' }),
        key(ctx.t('operator.enter'), () => this.submit(), { 'data-key': 'enter', class: 'btn op-key op-enter' })),
      h('button', { type: 'button', class: 'btn op-exit', 'data-op': 'exit', onclick: () => this.close() }, ctx.t('operator.exit')),
    ];
  }

  healthView(ctx) {
    const hd = this.health ?? {};
    const data = hd.data ?? {};
    const when = (iso) => ctx.instant(iso) ?? ctx.t('operator.never');
    // FRESH / STALE / EXPIRED in the screen's language; a code this page does not know stays a code.
    const freshness = (code) => (code == null ? '—'
      : ctx.has(`operator.freshness.${code}`) ? ctx.t(`operator.freshness.${code}`) : code);
    const row = (name, label, value, bad = false) => h('div', { class: ['op-row', bad && 'op-bad'], 'data-row': name },
      h('dt', { text: label }), h('dd', { text: value }));
    const usb = hd.usb_import;
    const usbText = !usb ? ctx.t('operator.never')
      : `${ctx.t(`operator.usb.${usb.outcome}`)}${usb.serial != null ? ` · ${ctx.t('operator.serial')} ${usb.serial}` : ''}${usb.code ? ` · ${usb.code}` : ''} · ${when(usb.at)}`;
    const gb = (n) => (n / 1e9).toFixed(1);
    const age = Number.isFinite(data.age_seconds) ? ageText(ctx, data.age_seconds) : '—';
    const readerOk = hd.reader?.status === 'ready';
    return [
      h('h1', { id: 'operator-title', class: 'op-title', text: ctx.t('operator.health_title') }),
      h('dl', { class: 'op-health' },
        row('reader', ctx.t('operator.reader'), ctx.t(readerOk ? 'operator.reader_ready' : 'operator.reader_lost'), !readerOk),
        row('data', ctx.t('operator.data'),
          data.serial != null ? `${ctx.t('operator.serial')} ${data.serial} · ${when(data.signed_at)} · ${age} · ${freshness(data.freshness)}` : ctx.t('footer.no_data'),
          data.freshness !== 'FRESH'),
        row('last_sync', ctx.t('operator.last_sync'), when(data.last_sync)),
        row('last_attempt', ctx.t('operator.last_attempt'), when(data.last_sync_attempt)),
        row('sync_error', ctx.t('operator.sync_error'),
          data.last_sync_error ? `${data.last_sync_error} · ${syncErrorText(ctx, data.last_sync_error)}` : ctx.t('operator.none'),
          Boolean(data.last_sync_error)),
        row('source', ctx.t('operator.source'), data.source ?? '—'),
        row('disk', ctx.t('operator.disk'), hd.disk ? ctx.t('operator.disk_free', { free: gb(hd.disk.free_bytes), total: gb(hd.disk.total_bytes) }) : '—',
          hd.disk ? hd.disk.free_bytes < 1e9 : true),
        row('usb', ctx.t('operator.usb'), usbText, usb?.outcome === 'refused')),
      this.syncNote ? h('p', { class: 'op-message', role: 'status', 'data-note': this.syncNote, text: ctx.t(this.syncNote) }) : null,
      h('p', { class: 'op-note', text: ctx.t('operator.read_only') }),
      h('div', { class: 'op-actions' },
        h('button', { type: 'button', class: 'btn op-sync', 'data-op': 'sync', disabled: hd.sync_configured ? null : true, onclick: () => this.syncNow() },
          ctx.t('operator.sync_now')),
        h('button', { type: 'button', class: 'btn op-exit', 'data-op': 'exit', onclick: () => this.close() }, ctx.t('operator.exit'))),
    ];
  }
}
