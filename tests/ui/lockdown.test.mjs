// The kiosk page gives a citizen no browser menus: a long press or a right
// click (both fire `contextmenu`) opens nothing. The rest of the lock-down is
// Chromium's managed policy, tested with the package (tests/package/).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openKiosk, startKiosk, stopKiosk } from './lib/kiosk.mjs';

describe('kiosk lock-down in the page', () => {
  let daemon; let browser; let page;

  before(async () => {
    ({ daemon, browser } = await startKiosk());
    page = await browser.newPage();
    await openKiosk(page, daemon.baseUrl);
  });
  after(() => stopKiosk({ daemon, browser }));

  it('a contextmenu event (long press, right click) is cancelled everywhere on the page', async () => {
    const prevented = await page.evaluate(() => ['#screen', 'body', 'header'].map((sel) => {
      const el = document.querySelector(sel) ?? document.body;
      const ev = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
      el.dispatchEvent(ev);
      return ev.defaultPrevented;
    }));
    assert.deepEqual(prevented, [true, true, true]);
  });
});
