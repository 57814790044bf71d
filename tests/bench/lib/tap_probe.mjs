// Shared by the tap-to-screen benchmarks (tap_to_screen.mjs, tap_during_sync.mjs):
// one tap on the PN532 emulator timed to the status screen painted in Chromium.
//
// Clocks: Node takes performance.timeOrigin + performance.now() just before the
// emulator's `insert`; the page takes the same (its own timeOrigin) when
// body[data-screen] changes (DOM), in the next requestAnimationFrame (frame
// start), and in the first task after that frame (painted). clockOffset()
// measures the offset between the two clocks by round trips; subtract it.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForScreen } from '../../e2e/lib/harness.mjs';

export const nowMs = () => performance.timeOrigin + performance.now();

/** Page clock minus Node clock, from the round trip with the smallest delay. */
export async function clockOffset(page) {
  let best = null;
  for (let i = 0; i < 20; i++) {
    const a = nowMs();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const b = nowMs();
    if (!best || b - a < best.rtt) best = { rtt: b - a, offset: p - (a + b) / 2 };
  }
  return best;
}

// Installed once per page (page.evaluate(installProbe)): records when the next
// screen change after arming lands.
export function installProbe() {
  const t = () => performance.timeOrigin + performance.now();
  window.__kbProbe = { armed: false, result: null };
  new MutationObserver(() => {
    const probe = window.__kbProbe;
    const screen = document.body.dataset.screen;
    if (!probe.armed || screen === 'idle' || screen === 'reading') return;
    probe.armed = false;
    const r = { screen, error: document.body.dataset.error || null, dom: t(), frame: null, painted: null };
    requestAnimationFrame(() => {
      r.frame = t();
      // The first task after the frame's rendering steps: the status is on screen.
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { r.painted = t(); probe.result = r; };
      ch.port2.postMessage(0);
    });
  }).observe(document.body, { attributes: true, attributeFilter: ['data-screen'] });
}

/**
 * One tap: the card lands at a random moment of the reader's polling cycle, as a
 * hand does, and is removed once a screen is shown; back on idle when this
 * returns. Times (ms, page clock minus the Node clock at placing: subtract
 * clockOffset().offset) for the DOM change, the frame and the paint.
 */
export async function tap(page, emulator) {
  await page.evaluate(() => { window.__kbProbe.armed = true; window.__kbProbe.result = null; });
  await sleep(Math.random() * 100);
  const placed = nowMs();
  await emulator.send('insert');
  const r = await page.waitForFunction(() => window.__kbProbe.result, null, { timeout: 15000, polling: 'raf' })
    .then((h) => h.jsonValue());
  await emulator.send('remove');
  await waitForScreen(page, 'idle', { timeout: 15000 });
  return { screen: r.screen, error: r.error, dom: r.dom - placed, frame: r.frame - placed, painted: r.painted - placed };
}
