// Every error screen of docs/contracts.md §4, reached through the real daemon's demo
// cards: a calm sentence, what to do next, and nothing personal on screen.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UI_ROOT } from './lib/paths.mjs';
import {
  waitForScreen, openKiosk, screenshot, seriousA11yViolations, smallTouchTargets, smallestTextPx, LANDSCAPE,
  ERROR_CODES, startKiosk, stopKiosk,
} from './lib/kiosk.mjs';

// READER_LOST needs the reader unplugged, which the sim reader of --demo cannot do.
const FROM_DEMO_CARDS = ERROR_CODES.filter((c) => c !== 'READER_LOST');

describe('error screens', () => {
  let daemon; let browser; let api; let cards; let page; let strings;

  before(async () => {
    ({ daemon, api, cards, browser } = await startKiosk());
    page = await browser.newPage();
    await openKiosk(page, daemon.baseUrl);
    strings = {
      id: JSON.parse(await readFile(path.join(UI_ROOT, 'content/i18n/id.json'), 'utf8')),
      en: JSON.parse(await readFile(path.join(UI_ROOT, 'content/i18n/en.json'), 'utf8')),
    };
  });
  after(() => stopKiosk({ daemon, browser }));

  const cardFor = (code) => cards.find((c) => c.screen === 'error' && c.error === code);

  it('the demo has a card for every error a tap can cause', () => {
    const missing = FROM_DEMO_CARDS.filter((code) => !cardFor(code));
    assert.deepEqual(missing, []);
  });

  for (const code of FROM_DEMO_CARDS) {
    it(`${code}: calm screen, next step, nothing personal`, async () => {
      const card = cardFor(code);
      assert.ok(card, `no demo card for ${code}`);  // a missing card fails, never skips
      await api.tap(card.card_no);
      await waitForScreen(page, 'error', { error: code });
      const state = await api.state();
      assert.equal(state.screen, 'error');
      assert.equal(state.error, code);
      assert.equal(await page.locator('.error-title').innerText(), strings.id[`error.${code}.title`]);
      assert.equal(await page.locator('.error-body').innerText(), strings.id[`error.${code}.body`]);
      const text = await page.locator('#screen').innerText();
      assert.ok(!text.includes(card.card_no), 'the card number is not shown on an error screen');
      assert.equal(await page.locator('.holder, .card-no, .tile').count(), 0);
      if (code === 'DATA_TOO_OLD' || code === 'NO_DATA') {
        assert.equal(await page.locator('.call-number').innerText(), '112');
      }
      assert.deepEqual(await smallTouchTargets(page), []);
      assert.ok(await smallestTextPx(page, '#screen') >= 24);
      await screenshot(page, `error-${code}`);
      if (code === 'CANNOT_VERIFY_CARD') assert.deepEqual(await seriousA11yViolations(page), []);

      // The card is taken away: the error screen gives way to idle.
      await api.remove();
      await waitForScreen(page, 'idle', { timeout: 30000 });
    });
  }

  it('an error screen in English and in landscape', async () => {
    const card = cardFor('BLOCKED') ?? cards.find((c) => c.screen === 'error');
    const land = await browser.newPage(LANDSCAPE);
    await openKiosk(land, daemon.baseUrl);
    await waitForScreen(land, 'idle');
    await land.locator('[data-lang="en"]').click();
    await api.tap(card.card_no);
    await waitForScreen(land, 'error', { error: card.error });
    assert.equal(await land.locator('.error-title').innerText(), strings.en[`error.${card.error}.title`]);
    await screenshot(land, `error-${card.error}-en-landscape`);
    // "Back to start" sends done: the daemon returns to idle.
    await land.locator('#screen [data-action="done"]').click();
    await waitForScreen(land, 'idle');
    await api.remove();
    assert.deepEqual(land.problems, []);
    await land.close();
  });

  it('no script errors on the page', () => {
    assert.deepEqual(page.problems, []);
  });
});
