// A citizen's session from start to end: language and large-text switches,
// touches keeping the screen, return to idle after removal or no touch with
// nothing personal left in the page, and reconnecting after a daemon restart.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startDaemon } from './lib/daemon.mjs';
import {
  pickCard, waitForScreen, openKiosk, resetKiosk, screenshot, screenScrolls, smallTouchTargets,
  expectedDataAsOf, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk, closeCheckedPage,
} from './lib/kiosk.mjs';

/** Everything the page holds that a person could read back: DOM and storage. */
async function pageHolds(page, needle) {
  return page.evaluate((n) => document.documentElement.outerHTML.includes(n)
    || JSON.stringify(sessionStorage).includes(n) || JSON.stringify(localStorage).includes(n), needle);
}

describe('kiosk session', () => {
  let daemon; let browser; let api; let cards; let page;

  before(async () => {
    ({ daemon, api, cards, browser } = await startKiosk());
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page, /WebSocket|ERR_CONNECTION_REFUSED/);
  });

  it('language switch: English on idle, on status, then back to Indonesian for the next person', async () => {
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    await waitForScreen(page, 'idle');
    await page.locator('[data-lang="en"]').click();
    assert.equal(await page.locator('.idle-title').innerText(), 'Tap your Kartu Bahagia here');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.locator('[data-lang="en"]').getAttribute('aria-pressed'), 'true');
    await screenshot(page, 'idle-en-portrait');

    await api.tap(pickCard(cards, 'ACTIVE').card_no);
    await waitForScreen(page, 'status');
    const state = await api.state();
    assert.match(await page.locator('.card-facts').innerText(), /Card number/);
    assert.equal(await page.locator('.data-as-of').innerText(), expectedDataAsOf(state.data.signed_at, 'en'));
    assert.match(await page.locator('[data-action="guidance"][data-program="JKK"]').innerText(), /I had a work accident/);
    await screenshot(page, 'status-en-portrait');

    await page.locator('#screen [data-action="done"]').click();
    await waitForScreen(page, 'idle');
    await api.remove();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'id');
    assert.equal(await page.locator('.idle-title').innerText(), 'Tempelkan Kartu Bahagia Anda di sini');
  });

  it('large text makes the type bigger and the status still works in both orientations', async () => {
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    await waitForScreen(page, 'idle');
    const size = () => page.locator('.idle-hint').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    const normal = await size();
    await page.locator('[data-pref="large"]').click();
    assert.equal(await page.locator('[data-pref="large"]').getAttribute('aria-pressed'), 'true');
    assert.ok(await size() >= normal * 1.2, 'large text is at least 20 % bigger');
    await screenshot(page, 'idle-large-portrait');

    await api.tap(pickCard(cards, 'ACTIVE').card_no);
    await waitForScreen(page, 'status');
    assert.ok(await page.locator('.holder').isVisible());
    assert.deepEqual(await smallTouchTargets(page), []);
    assert.equal(await screenScrolls(page), false, 'large-text status fits in portrait');
    await screenshot(page, 'status-large-portrait');
    await page.setViewportSize(LANDSCAPE);
    await screenshot(page, 'status-large-landscape');
    await page.locator('#screen [data-action="done"]').click();
    await waitForScreen(page, 'idle');
    await api.remove();
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large')), false,
      'the next person starts with normal text');
  });

  it('card removed → idle after the removal timeout, nothing personal left', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    const holder = await page.locator('.holder').innerText();
    assert.ok(await pageHolds(page, card.card_no));
    await api.remove();
    await waitForScreen(page, 'idle', { timeout: 30000 });
    assert.equal(await pageHolds(page, holder), false, 'masked name gone from the DOM');
    assert.equal(await pageHolds(page, card.card_no), false, 'card number gone from the DOM');
    await screenshot(page, 'idle-after-removal');
  });

  it('no touch → idle after the idle timeout, even with the card still there; touches keep it', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(LANDSCAPE);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    await page.locator('[data-action="guidance"][data-program="JKK"]').click();
    await waitForScreen(page, 'guidance');
    const holderState = (await api.state()).tap.card.holder;

    // Touch the screen now and then for longer than the idle timeout (6 s in these tests).
    const started = Date.now();
    while (Date.now() - started < 9000) {
      await page.mouse.click(960, 300);
      await page.waitForTimeout(1500);
      assert.equal(await page.evaluate(() => document.body.dataset.screen), 'guidance', 'touches keep the screen');
    }
    // Then nobody touches: the daemon returns to idle and the page forgets the person.
    await waitForScreen(page, 'idle', { timeout: 60000 });
    assert.equal(await pageHolds(page, holderState), false);
    assert.equal(await pageHolds(page, card.card_no), false);
    await api.remove();
  });

  it('reconnects after the daemon restarts and renders the state it resends', async (t) => {
    if (daemon.external) {
      t.skip('external kiosk: cannot restart it');
      return;
    }
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    await waitForScreen(page, 'idle');
    const port = Number(new URL(daemon.baseUrl).port);
    const stateDir = daemon.stateDir;
    await daemon.stop({ keepState: true });
    await page.waitForSelector('#conn-banner:not([hidden])');
    await screenshot(page, 'reconnecting');
    const restarted = await startDaemon({ port, stateDir });
    daemon.stop = async () => {
      await restarted.stop();
      await rm(stateDir, { recursive: true, force: true });
    };
    await page.waitForSelector('#conn-banner[hidden]', { state: 'attached', timeout: 30000 });
    await api.tap(pickCard(cards, 'ACTIVE').card_no);
    await waitForScreen(page, 'status');
    await resetKiosk(page, api);
  });
});
