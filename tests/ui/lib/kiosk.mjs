// Browser side of the UI tests: real Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core, plus helpers to tap demo cards and check screens.

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { startDaemon } from './daemon.mjs';
import { SCREENS_DIR } from './paths.mjs';

const require = createRequire(import.meta.url);

export const PORTRAIT = { width: 1080, height: 1920 };
export const LANDSCAPE = { width: 1920, height: 1080 };
export const ERROR_CODES = ['READ_ERROR', 'NOT_KARTU_BAHAGIA', 'CANNOT_VERIFY_CARD', 'BLOCKED',
  'NOT_FOUND', 'DATA_TOO_OLD', 'READER_LOST', 'NO_DATA'];

const CHROMIUM = process.env.KB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh profile per browser: nothing carries over between test files. */
export async function openBrowser(viewport = PORTRAIT) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'kb-ui-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    // The page's CSP forbids inline scripts; axe-core is injected as one.
    bypassCSP: true,
  });
  return {
    context,
    async newPage(size = viewport) {
      const page = await context.newPage();
      await page.setViewportSize(size);
      const problems = [];
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
      page.problems = problems;
      return page;
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The daemon's demo endpoints and state, over plain HTTP from the test process. */
export function kioskApi(baseUrl) {
  const post = async (p, body) => {
    const res = await fetch(`${baseUrl}${p}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw new Error(`POST ${p}: HTTP ${res.status} ${await res.text()}`);
  };
  return {
    async cards() {
      const res = await fetch(`${baseUrl}/api/demo/cards`);
      if (!res.ok) throw new Error(`GET /api/demo/cards: HTTP ${res.status}`);
      return res.json();
    },
    async state() {
      const res = await fetch(`${baseUrl}/api/state`);
      return res.json();
    },
    async schema() {
      const res = await fetch(`${baseUrl}/api/schema`);
      if (!res.ok) throw new Error(`GET /api/schema: HTTP ${res.status}`);
      return res.json();
    },
    tap: (cardNo) => post('/api/demo/tap', { card_no: cardNo }),
    remove: () => post('/api/demo/remove', {}),
  };
}

/**
 * A demo card whose expected_verdict is one of `verdicts` (and passes `filter`):
 * the plain one (KB-DEMO-<VERDICT>) when there is one, so that e.g. ACTIVE does
 * not pick the card answered from stale data.
 */
export function pickCard(cards, verdicts, filter = () => true) {
  const wanted = Array.isArray(verdicts) ? verdicts : [verdicts];
  const matching = cards.filter((c) => wanted.includes(c.expected_verdict) && filter(c));
  return matching.find((c) => wanted.some((v) => c.card_no === `KB-DEMO-${v}`))
    ?? matching.find((c) => !/STALE|EXPIRED|NODATA/i.test(c.card_no))
    ?? matching[0] ?? null;
}

export async function waitForScreen(page, screen, { error = null, timeout = 15000 } = {}) {
  const sel = error ? `body[data-screen="${screen}"][data-error="${error}"]` : `body[data-screen="${screen}"]`;
  await page.waitForSelector(sel, { timeout });
}

/** Opens the kiosk page and waits until the daemon's first state is on screen. */
export async function openKiosk(page, baseUrl) {
  await page.goto(baseUrl);
  await page.waitForFunction(() => /^\d+$/.test(document.body.dataset.seq ?? ''), null, { timeout: 15000 });
}

/**
 * A real state of the demo daemon to replay into pages: taps `cardNo`, polls /api/state
 * until the daemon shows `screen`, takes the card off (and with `untilIdle` waits for
 * idle again) and returns that state.
 */
export async function stateAfterTap(api, cardNo, screen = 'status', { untilIdle = false } = {}) {
  await api.tap(cardNo);
  let s;
  for (let i = 0; i < 100 && s?.screen !== screen; i++) {
    s = await api.state();
    await new Promise((r) => setTimeout(r, 100));
  }
  await api.remove();
  if (untilIdle) {
    for (let i = 0; i < 100 && (await api.state()).screen !== 'idle'; i++) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(s.screen, screen, `${cardNo}: a real ${screen} state to start from`);
  return s;
}

/**
 * A kiosk page whose /api/ws is the test's: loads `baseUrl` in a new page of `browser`;
 * once `ready` resolves, `send(state)` pushes a state to it (seq counted up from
 * `seq`) and returns that seq. `route(page)` can route more before the page loads.
 */
export async function openRoutedKiosk(browser, baseUrl, viewport, { seq = 5000, route = null } = {}) {
  const page = await browser.newPage(viewport);
  let socket;
  let connected;
  const ready = new Promise((resolve) => { connected = resolve; });
  await page.routeWebSocket(/\/api\/ws$/, (ws) => {
    socket = ws;
    ws.onMessage(() => {});
    connected();
  });
  if (route) await route(page);
  const send = (state) => {
    socket.send(JSON.stringify({ ...state, seq: ++seq }));
    return seq;
  };
  await page.goto(baseUrl);
  return { page, ready, send };
}

/** Puts the kiosk back to idle between cases: card off, "done", wait for idle. */
export async function resetKiosk(page, api) {
  await api.remove();
  const done = page.locator('#screen [data-action="done"]');
  if (await done.count()) await done.first().click().catch(() => {});
  await waitForScreen(page, 'idle', { timeout: 30000 });
}

export async function screenshot(page, name) {
  await mkdir(SCREENS_DIR, { recursive: true });
  // Let the web font and any image settle so the artefact shows the real screen.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(SCREENS_DIR, `${name}.png`) });
}

/** axe-core on the current page; returns the serious and critical violations only. */
export async function seriousA11yViolations(page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

/** Every visible control with a box smaller than 64×64 CSS px. */
export async function smallTouchTargets(page) {
  const small = [];
  for (const el of await page.locator('button:visible, a[href]:visible, [role="button"]:visible, input:visible').all()) {
    const box = await el.boundingBox();
    if (box && (box.width < 64 || box.height < 64)) {
      small.push({ text: (await el.innerText()).trim().slice(0, 40), width: box.width, height: box.height });
    }
  }
  return small;
}

/** Smallest computed font size of visible text on the page, in CSS px. */
export async function smallestTextPx(page, rootSelector = 'body') {
  return page.evaluate((sel) => {
    let min = Infinity;
    const walker = document.createTreeWalker(document.querySelector(sel), NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      min = Math.min(min, parseFloat(getComputedStyle(el).fontSize));
    }
    return min;
  }, rootSelector);
}

/** True when the screen needs scrolling to show everything. */
export async function screenScrolls(page) {
  return page.evaluate(() => {
    const root = document.getElementById('screen');
    return root.scrollHeight > root.clientHeight + 1
      || document.documentElement.scrollHeight > window.innerHeight + 1;
  });
}

/** "Data per 20 Nov 2026 08.00 WIB", computed here independently of the UI's code. */
export function expectedDataAsOf(signedAtIso, lang = 'id') {
  const months = lang === 'en'
    ? ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
    : ['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov', 'Des'];
  const d = new Date(Date.parse(signedAtIso) + 7 * 3600 * 1000);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const when = `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${hh}${lang === 'en' ? ':' : '.'}${mm} WIB`;
  return lang === 'en' ? `Data as of ${when}` : `Data per ${when}`;
}

/** What every UI test file starts from: a demo daemon, its demo cards and a browser. */
export async function startKiosk({ daemonArgs = [] } = {}) {
  const daemon = await startDaemon({ extraArgs: daemonArgs });
  const api = kioskApi(daemon.baseUrl);
  const schema = await api.schema();
  // programs: the ones the kiosk explains (a tile, a guidance button and a QR code each), the daemon's list.
  return { daemon, api, cards: await api.cards(), schema, programs: schema.guidance_programs, browser: await openBrowser(PORTRAIT) };
}

export async function stopKiosk({ daemon, browser }) {
  await browser?.close();
  await daemon?.stop();
}

/** Ends a test's page, which must have logged no script errors (but those `allowed` matches). */
export async function closeCheckedPage(page, allowed = null) {
  if (!page) return null;
  const problems = allowed ? page.problems.filter((p) => !allowed.test(p)) : page.problems;
  assert.deepEqual(problems, [], 'no script errors on the page');
  await page.close();
  return null;
}
