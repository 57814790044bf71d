// States the demo cannot produce on demand (reader unplugged, sync failing,
// a slow read), replayed into the page over a routed WebSocket. The page and
// the starting states still come from the real daemon; only /api/ws is
// replaced, so these tests check the UI's own logic, not the daemon's.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, screenshot, seriousA11yViolations, screenScrolls, PORTRAIT, LANDSCAPE, startKiosk,
  stopKiosk, closeCheckedPage,
} from './lib/kiosk.mjs';

describe('UI logic with injected states', () => {
  let daemon; let browser; let api; let idleState; let statusState; let page;

  before(async () => {
    ({ daemon, api, browser } = await startKiosk());
    idleState = await api.state();
    const cards = await api.cards();
    await api.tap(pickCard(cards, 'ACTIVE').card_no);
    for (let i = 0; i < 100 && statusState?.screen !== 'status'; i++) {
      statusState = await api.state();
      await new Promise((r) => setTimeout(r, 100));
    }
    await api.remove();
    assert.equal(statusState.screen, 'status', 'a real status state to start from');
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  /** Opens the kiosk with /api/ws answered by the test; returns send() and the actions received. */
  async function openInjected(viewport, first) {
    page = await browser.newPage(viewport);
    const received = [];
    let socket;
    let connected;
    const ready = new Promise((resolve) => { connected = resolve; });
    await page.routeWebSocket(/\/api\/ws$/, (ws) => {
      socket = ws;
      ws.onMessage((m) => received.push(JSON.parse(m)));
      connected();
    });
    let seq = 1000;
    const send = (state) => socket.send(typeof state === 'string' ? state : JSON.stringify({ ...state, seq: ++seq }));
    await page.goto(daemon.baseUrl);
    await ready;
    send(first);
    return { send, received };
  }

  it('READER_LOST: calm screen for the officer, no button that cannot help', async () => {
    const { send } = await openInjected(PORTRAIT, idleState);
    await waitForScreen(page, 'idle');
    send({ ...idleState, screen: 'error', error: 'READER_LOST', reader: { ...idleState.reader, status: 'lost' } });
    await waitForScreen(page, 'error', { error: 'READER_LOST' });
    assert.match(await page.locator('.error-body').innerText(), /petugas/);
    assert.equal(await page.locator('#screen [data-action="done"]').count(), 0);
    await screenshot(page, 'error-READER_LOST');
    assert.deepEqual(await seriousA11yViolations(page), []);
  });

  it('offline (last sync failed) and stale data show the amber banner on status', async () => {
    const offline = { ...statusState, data: { ...statusState.data, last_sync_error: 'network unreachable' } };
    const { send } = await openInjected(LANDSCAPE, offline);
    await waitForScreen(page, 'status');
    assert.equal(await page.locator('.banner-amber').getAttribute('data-banner'), 'offline');
    assert.match(await page.locator('.banner-amber').innerText(), /tidak tersambung/);
    assert.equal(await screenScrolls(page), false);
    await screenshot(page, 'status-offline-landscape');

    send({ ...statusState, tap: { ...statusState.tap, freshness: 'STALE' }, data: { ...statusState.data, freshness: 'STALE' } });
    await page.waitForSelector('.banner-amber[data-banner="stale"]');
    send(statusState);
    await page.waitForSelector('.banner-amber', { state: 'detached' });
  });

  it('"Tahan kartu…" only when reading lasts longer than a blink', async () => {
    const { send } = await openInjected(PORTRAIT, idleState);
    await waitForScreen(page, 'idle');
    await page.evaluate(() => {
      window.seenScreens = [];
      new MutationObserver(() => window.seenScreens.push(document.body.dataset.screen))
        .observe(document.body, { attributes: true, attributeFilter: ['data-screen'] });
    });
    // A quick read: reading and the result arrive together.
    send({ ...idleState, screen: 'reading' });
    send(statusState);
    await waitForScreen(page, 'status');
    assert.ok(!(await page.evaluate(() => window.seenScreens)).includes('reading'), 'no flash of the reading screen');

    send(idleState);
    await waitForScreen(page, 'idle');
    // A slow read: the reading screen appears and stays until the result.
    send({ ...idleState, screen: 'reading' });
    await waitForScreen(page, 'reading');
    assert.equal(await page.locator('.reading-title').innerText(), 'Tahan kartu…');
    await screenshot(page, 'reading');
    send(statusState);
    await waitForScreen(page, 'status');
  });

  it('the page sends touch (throttled), guidance, back and done actions', async () => {
    const { send, received } = await openInjected(PORTRAIT, statusState);
    await waitForScreen(page, 'status');
    for (let i = 0; i < 5; i++) await page.mouse.click(540, 900);
    await page.locator('[data-action="guidance"][data-program="JKN"]').click();
    await new Promise((r) => setTimeout(r, 300));
    const touches = received.filter((a) => a.action === 'touch').length;
    assert.ok(touches >= 1 && touches <= 3, `touches are throttled (got ${touches})`);
    assert.ok(received.some((a) => a.action === 'guidance' && a.program === 'JKN'));
    send({ ...statusState, screen: 'guidance', guidance: 'JKN' });
    await waitForScreen(page, 'guidance');
    await page.locator('[data-action="back"]').click();
    await page.locator('[data-action="done"]').click();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(received.some((a) => a.action === 'back'));
    assert.ok(received.some((a) => a.action === 'done'));
  });

  it('unexpected input is shown as text, never as markup', async () => {
    const evil = structuredClone(statusState);
    evil.tap.card.holder = '<img src=x onerror="window.pwned=1">';
    evil.tap.coverages[0].activity = '<b>bold</b>';
    const { send } = await openInjected(PORTRAIT, evil);
    await waitForScreen(page, 'status');
    assert.equal(await page.locator('.holder').innerText(), evil.tap.card.holder);
    assert.equal(await page.locator('#screen img').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    send('not json at all'); // a broken frame is ignored
    send(idleState);
    await waitForScreen(page, 'idle');
  });
});
