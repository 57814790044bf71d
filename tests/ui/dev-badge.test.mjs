// A kiosk that trusts a public DEV root says so on every screen. The demo runs
// on DEV keys (its root has "dev": true), so its state says dev and the page
// shows the DEV badge on the idle, status and error screens alike.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openKiosk, pickCard, resetKiosk, startKiosk, stopKiosk, waitForScreen } from './lib/kiosk.mjs';

describe('DEV root badge', () => {
  let daemon; let browser; let api; let cards; let page;

  before(async () => {
    ({ daemon, browser, api, cards } = await startKiosk());
    page = await browser.newPage();
    await openKiosk(page, daemon.baseUrl);
  });
  after(() => stopKiosk({ daemon, browser }));

  const badgeShown = () => page.evaluate(() => {
    const el = document.getElementById('dev-badge');
    const r = el.getBoundingClientRect();
    return !el.hidden && getComputedStyle(el).display !== 'none' && r.width > 0 && r.height > 0
      && el.textContent.trim() === 'DEV';
  });

  it('the state says dev and the badge is on every screen', async () => {
    assert.equal((await api.state()).dev, true);
    await waitForScreen(page, 'idle');
    assert.ok(await badgeShown(), 'badge on idle');
    await api.tap(pickCard(cards, ['ACTIVE']).card_no);
    await waitForScreen(page, 'status');
    assert.ok(await badgeShown(), 'badge on status');
    await resetKiosk(page, api);
    await api.tap(pickCard(cards, ['NOT_FOUND']).card_no);
    await waitForScreen(page, 'error');
    assert.ok(await badgeShown(), 'badge on error');
    await resetKiosk(page, api);
  });
});
