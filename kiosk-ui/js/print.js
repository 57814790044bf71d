// "Cetak" / "Print": the guidance on paper, where a receipt printer is attached.
// The page sends what the screen shows (title, cover line, the steps, the data's
// date); the kiosk adds the masked name from its own state, 112 and the QR code
// of the public page. Printing never holds the screen: the button just waits.

import { h } from './dom.js';
import { icon } from './icons.js';

let configured = null; // Promise<boolean>, asked once per page load

function printerConfigured() {
  if (!configured) {
    configured = fetch('/api/printer', { cache: 'no-store' })
      .then((res) => (res.ok ? res.json() : { configured: false }))
      .then((j) => j.configured === true, () => false);
  }
  return configured;
}

const MESSAGES = { PAPER_OUT: 'print.paper_out', UNPLUGGED: 'print.unplugged', SLOW: 'print.slow', NO_PRINTER: 'print.unplugged' };

function slipOf(screen, program, ctx) {
  const text = (el) => (el?.innerText ?? '').replace(/\s*\((?:\[\d+\])+\)/g, '').replace(/\s+/g, ' ').trim();
  const steps = [...screen.querySelectorAll('.g-answer [data-section="now"] li, .g-main > [data-section="now"] li, '
    + '.g-answer [data-section="deadlines"] li')].map(text).filter(Boolean).slice(0, 12);
  return {
    lang: ctx.lang,
    program,
    title: text(screen.querySelector('.g-title')),
    summary: [text(screen.querySelector('.g-status'))].filter(Boolean),
    steps,
    data_as_of: text(document.querySelector('#screen .data-as-of')),
  };
}

/** The button; hidden until the kiosk says a printer is attached. */
export function printButton(ctx, program, getScreen, statusLine) {
  const label = h('span', { text: ctx.t('action.print') });
  const button = h('button', { type: 'button', class: 'btn btn-print', 'data-action': 'print', hidden: true },
    icon('doc'), label);
  const say = (key, state) => {
    statusLine.textContent = ctx.t(key);
    statusLine.hidden = false;
    statusLine.dataset.print = state;
  };
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    say('print.printing', 'printing');
    try {
      const res = await fetch('/api/print', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(slipOf(getScreen(), program, ctx)),
      });
      if (res.ok) say('print.done', 'done');
      else {
        const code = (await res.json().catch(() => ({}))).error;
        say(MESSAGES[code] ?? 'print.failed', (code ?? 'failed').toLowerCase());
      }
    } catch {
      say('print.failed', 'failed');
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  printerConfigured().then((yes) => { button.hidden = !yes; });
  return button;
}
