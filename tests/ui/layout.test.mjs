// Every screen fits its window: both orientations, both languages, both text
// sizes. Measured, not eyeballed: every element's box must lie inside the box
// of the tile, button, badge or panel that holds it, nothing may stick out of
// the window, text may not overflow its own box, and only the guidance text
// panel (which has its own "read on" button) may scroll. States are replayed
// over a routed WebSocket, starting from real states of the real daemon.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, screenshot, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk, closeCheckedPage,
  stateAfterTap, openRoutedKiosk,
} from './lib/kiosk.mjs';

const DAY_MS = 86400000;
const day = (days) => new Date(Date.now() + 7 * 3600 * 1000 + days * DAY_MS).toISOString().slice(0, 10);

/** Boxes that must contain everything inside them. */
const CONTAINERS = ['.tile', '.tile-state', '.other', '.btn', '.pref-btn', '.call-box', '.qr', '.g-status', '.summary',
  '.banner', '.person', '.card-facts', '.g-when', '.error-icon', '.idle-nologin', '.topbar'];

/** Layout problems on the current page, as readable strings (empty when it fits). */
async function layoutProblems(page) {
  return page.evaluate((containers) => {
    const problems = [];
    const tol = 1.5;
    const vw = document.documentElement.clientWidth;
    const vh = window.innerHeight;
    const name = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`
      + (el.dataset.program ? `[${el.dataset.program}]` : '') + ` "${(el.innerText ?? el.textContent ?? '').trim().slice(0, 30)}"`;
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return false;
      const cs = getComputedStyle(el);
      return cs.visibility !== 'hidden' && cs.display !== 'none';
    };
    const scroller = document.querySelector('.g-main');
    const inScroller = (el) => scroller && scroller.contains(el) && el !== scroller;
    const root = document.getElementById('screen');
    if (root.scrollHeight > root.clientHeight + 1) problems.push(`the screen scrolls (${root.scrollHeight} > ${root.clientHeight})`);
    if (document.documentElement.scrollHeight > vh + 1) problems.push('the page scrolls');
    if (document.documentElement.scrollWidth > vw + 1) problems.push('the page scrolls sideways');
    const all = [...document.querySelectorAll('#topbar *, #screen *')].filter(visible);
    for (const el of all) {
      const r = el.getBoundingClientRect();
      if (r.left < -tol || r.right > vw + tol) problems.push(`${name(el)} sticks out of the window sideways`);
      if (!inScroller(el) && r.bottom > vh + tol) problems.push(`${name(el)} below the window`);
      // Text wider than its own box (a word that does not fit and is not wrapped).
      const cs = getComputedStyle(el);
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && cs.overflowX === 'visible'
        && [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) {
        problems.push(`${name(el)} text overflows its box (${el.scrollWidth} > ${el.clientWidth})`);
      }
    }
    for (const sel of containers) {
      for (const box of document.querySelectorAll(`#topbar ${sel}, #screen ${sel}`)) {
        if (!visible(box)) continue;
        const b = box.getBoundingClientRect();
        for (const el of box.querySelectorAll('*')) {
          if (!visible(el)) continue;
          const r = el.getBoundingClientRect();
          if (r.left < b.left - tol || r.right > b.right + tol || r.top < b.top - tol || r.bottom > b.bottom + tol) {
            problems.push(`${name(el)} runs outside its ${name(box)}`);
          }
        }
      }
    }
    return [...new Set(problems)];
  }, CONTAINERS);
}

describe('every screen fits: orientation × language × text size', () => {
  let daemon; let browser; let api; let cards; let page;
  const states = {};

  before(async () => {
    ({ daemon, api, cards, browser } = await startKiosk());
    states.idle = await api.state();
    const read = (cardNo, screen) => stateAfterTap(api, cardNo, screen, { untilIdle: true });
    states.status = await read(pickCard(cards, 'ACTIVE').card_no, 'status');
    states.kampung = await read('KB-DEMO-KAMPUNG', 'status');
    states.stale = await read('KB-DEMO-STALE', 'status');
    // Four tiles and a long Kampung Bahagia entry: the fullest status screen there can be.
    const full = structuredClone(states.status);
    const kb = states.kampung.tap.coverages.find((c) => c.activity);
    full.tap.coverages.push(
      { ...kb, valid_to: day(120) },
      { program: 'JHT', status: 'active', valid_from: day(-300), valid_to: day(300), active_today: true, funder: 'Mandiri', legal_basis: 'PP No. 46 Tahun 2015' },
      { program: 'JP', status: 'ended', valid_from: day(-900), valid_to: day(-300), active_today: false, funder: 'Pemberi kerja', legal_basis: 'PP No. 45 Tahun 2015' });
    full.data = { ...full.data, last_sync_error: 'NETWORK' };
    states.full = full;
    const none = structuredClone(states.status);
    none.tap.coverages = [];
    none.tap.verdict = 'INACTIVE';
    states.none = none;
    const future = structuredClone(states.status);
    future.tap.coverages = future.tap.coverages.map((c) => ({ ...c, valid_from: day(20), active_today: false }));
    future.tap.verdict = 'INACTIVE';
    states.future = future;
    const endedState = structuredClone(states.status);
    endedState.tap.coverages = endedState.tap.coverages.map((c) => ({ ...c, status: 'ended', valid_from: day(-400), valid_to: day(-30), active_today: false }));
    endedState.tap.verdict = 'INACTIVE';
    states.ended = endedState;
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  /** The screens to measure: [label, state, what to wait for]. */
  function screens() {
    const g = (base, program) => ({ ...base, screen: 'guidance', guidance: program });
    const err = (code) => ({ ...states.idle, screen: 'error', error: code });
    return [
      ['reading', { ...states.idle, screen: 'reading' }],
      ['status', states.status],
      ['status-kampung', states.kampung],
      ['status-stale', states.stale],
      ['status-four-tiles', states.full],
      ['status-not-registered', states.none],
      ['status-future', states.future],
      ['guidance-JKK', g(states.status, 'JKK')],
      ['guidance-JKM', g(states.status, 'JKM')],
      ['guidance-JKN-not-registered', g(states.none, 'JKN')],
      ['guidance-JKK-ended', g(states.ended, 'JKK')],
      ...['BLOCKED', 'DATA_TOO_OLD', 'CANNOT_VERIFY_CARD', 'READER_LOST', 'NO_DATA'].map((c) => [`error-${c}`, err(c)]),
    ];
  }

  for (const [orientation, viewport] of [['portrait', PORTRAIT], ['landscape', LANDSCAPE]]) {
    for (const lang of ['id', 'en']) {
      for (const large of [false, true]) {
        const combo = `${orientation}-${lang}${large ? '-large' : ''}`;
        it(combo, async () => {
          let send; let ready;
          ({ page, send, ready } = await openRoutedKiosk(browser, daemon.baseUrl, viewport, { seq: 9000 }));
          await ready;
          send(states.idle);
          await waitForScreen(page, 'idle');
          if (lang !== 'id') await page.locator(`[data-lang="${lang}"]`).click();
          if (large) await page.locator('[data-pref="large"]').click();
          await page.evaluate(() => document.fonts.ready);
          const failures = [];
          const idleProblems = await layoutProblems(page);
          if (idleProblems.length) failures.push(`idle: ${idleProblems.slice(0, 6).join('; ')}`);
          // In one go, never through idle: idle after a personal screen resets language and size.
          for (const [label, state] of screens()) {
            const n = send(state);
            await page.waitForSelector(`body[data-seq="${n}"]`, { state: 'attached' });
            if (state.screen === 'guidance') await page.waitForSelector('.g-main[data-loaded="true"]');
            const problems = await layoutProblems(page);
            if (problems.length) {
              failures.push(`${label}: ${problems.slice(0, 6).join('; ')}`);
              await screenshot(page, `layout-FAIL-${combo}-${label}`);
            }
            if (label === 'status-four-tiles') await screenshot(page, `status-four-tiles-${combo}`);
          }
          assert.deepEqual(failures, [], combo);
        });
      }
    }
  }
});
