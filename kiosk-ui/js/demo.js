// Demo panel, shown only when the daemon runs with --demo: lets a person
// place the built-in demo cards on the simulated reader from the browser.

import { h } from './dom.js';
import { icon } from './icons.js';

export class DemoPanel {
  constructor(root, getCtx) {
    this.root = root;
    this.getCtx = getCtx;
    this.cards = null;
    this.dialog = null;
    this.enabled = false;
  }

  update(state) {
    const enabled = state?.demo === true;
    if (enabled === this.enabled && this.root.childElementCount > 0 === enabled) {
      this.refreshLabels(state);
      return;
    }
    this.enabled = enabled;
    document.body.classList.toggle('demo', enabled);
    this.root.replaceChildren();
    if (!enabled) return;
    const ctx = this.getCtx();
    this.toggle = h('button', { type: 'button', class: 'demo-toggle', 'data-demo': 'open', onclick: () => this.open() },
      h('span', { text: ctx.t('demo.open') }));
    this.removeBtn = h('button', { type: 'button', class: 'demo-toggle demo-remove-quick', 'data-demo': 'remove-quick',
      onclick: () => this.remove() }, h('span', { text: ctx.t('demo.remove') }));
    this.root.append(h('div', { class: 'demo-dock' }, this.toggle, this.removeBtn));
    this.refreshLabels(state);
  }

  refreshLabels(state) {
    if (!this.enabled) return;
    const ctx = this.getCtx();
    this.toggle.querySelector('span').textContent = ctx.t('demo.open');
    this.removeBtn.querySelector('span').textContent = ctx.t('demo.remove');
    this.removeBtn.hidden = state?.screen === 'idle';
  }

  async open() {
    const ctx = this.getCtx();
    if (!this.cards) {
      try {
        const res = await fetch('/api/demo/cards', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.cards = await res.json();
      } catch {
        this.cards = null;
      }
    }
    this.dialog?.remove();
    const list = Array.isArray(this.cards)
      ? h('ul', { class: 'demo-list' }, this.cards.map((card) => h('li', null,
        h('button', { type: 'button', class: 'demo-card', 'data-card-no': card.card_no, 'data-expected': card.expected_verdict ?? '',
          onclick: () => this.tap(card) },
        h('span', { class: 'demo-card-label', text: card.label ?? card.card_no }),
        h('span', { class: 'demo-card-meta', text: `${card.expected_verdict ?? ''} · ${card.card_no}` })))))
      : h('p', { class: 'demo-error', text: ctx.t('demo.failed') });
    this.dialog = h('dialog', { class: 'demo-dialog', 'aria-labelledby': 'demo-title' },
      h('div', { class: 'demo-head' },
        h('h2', { id: 'demo-title', text: ctx.t('demo.title') }),
        h('button', { type: 'button', class: 'btn btn-small', 'data-demo': 'remove', onclick: () => this.remove() },
          h('span', { text: ctx.t('demo.remove') })),
        h('button', { type: 'button', class: 'btn btn-small', 'data-demo': 'close', onclick: () => this.close() },
          icon('back'), h('span', { text: ctx.t('demo.close') }))),
      h('p', { class: 'demo-intro', text: ctx.t('demo.intro') }),
      list);
    this.root.append(this.dialog);
    this.dialog.showModal();
  }

  close() {
    this.dialog?.close();
    this.dialog?.remove();
    this.dialog = null;
  }

  async tap(card) {
    this.close();
    // card_no only: a uid would put this card's credential on another chip (a clone).
    await post('/api/demo/tap', { card_no: card.card_no });
  }

  async remove() {
    this.close();
    await post('/api/demo/remove', {});
  }
}

async function post(url, body) {
  try {
    await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    // The kiosk state (over the socket) shows what happened; nothing to add here.
  }
}
