// The kiosk page keeps no list of its own: the programmes it explains, the order of
// the coverage tiles and the categories come from the daemon's GET /api/schema.
// The page comes from the real daemon; /api/schema is answered by the test with
// the daemon's own document changed (or refused), and /api/ws with real states.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, PORTRAIT, startKiosk, stopKiosk, closeCheckedPage, stateAfterTap, openRoutedKiosk,
} from './lib/kiosk.mjs';

describe('the UI takes the domain lists from the daemon', () => {
  let daemon; let browser; let api; let real; let idleState; let statusState; let page;

  before(async () => {
    ({ daemon, api, browser } = await startKiosk());
    const res = await fetch(`${daemon.baseUrl}/api/schema`);
    assert.equal(res.status, 200);
    real = await res.json();
    idleState = await api.state();
    statusState = await stateAfterTap(api, pickCard(await api.cards(), 'ACTIVE').card_no);
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    // A refused /api/schema is logged by Chromium as a failed resource: expected there.
    page = await closeCheckedPage(page, /Failed to load resource: the server responded with a status of 503/);
  });

  /** Opens the kiosk with /api/schema from `schemaFor(n)` (n-th request) and /api/ws from the test. */
  async function open(schemaFor) {
    let requests = 0;
    const schemaRoute = (p) => p.route(/\/api\/schema$/, (route) => {
      const doc = schemaFor(++requests);
      return doc ? route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(doc) })
        : route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"NOT_READY"}' });
    });
    let send; let ready;
    ({ page, send, ready } = await openRoutedKiosk(browser, daemon.baseUrl, PORTRAIT, { route: schemaRoute }));
    return { send, ready, requests: () => requests };
  }

  it('the real document names what the UI needs', () => {
    for (const key of ['programs', 'guidance_programs', 'categories', 'card_statuses', 'coverage_statuses']) {
      assert.ok(Array.isArray(real[key]) && real[key].length > 0, key);
    }
    for (const p of real.guidance_programs) assert.ok(real.programs.includes(p), `${p} is a programme`);
  });

  it('tiles, guidance buttons and the other programmes follow the schema\'s order', async () => {
    const others = real.programs.filter((p) => !real.guidance_programs.includes(p));
    assert.ok(others.length >= 2, 'at least two programmes besides the explained ones');
    const changed = { ...real, guidance_programs: [...real.guidance_programs].reverse(), programs: [...real.programs].reverse() };
    const { send, ready } = await open(() => changed);
    await ready;
    // Every programme present on the card, so the "other programmes" box lists them all.
    const base = statusState.tap.coverages[0];
    const coverages = real.programs.map((program) => ({ ...base, program }));
    send({ ...statusState, tap: { ...statusState.tap, coverages } });
    await waitForScreen(page, 'status');
    const tiles = await page.locator('.tiles > .tile[data-program]').evaluateAll((els) => els.map((e) => e.dataset.program));
    assert.deepEqual(tiles, changed.guidance_programs);
    const buttons = await page.locator('[data-action="guidance"]').evaluateAll((els) => els.map((e) => e.dataset.program));
    assert.deepEqual(buttons, changed.guidance_programs);
    const shownOthers = await page.locator('.tile-others .other').evaluateAll((els) => els.map((e) => e.dataset.program));
    assert.deepEqual(shownOthers, changed.programs.filter((p) => !changed.guidance_programs.includes(p)));
  });

  it('a programme the UI has no icon or text for still gets its tile and button', async () => {
    const changed = { ...real, programs: [...real.programs, 'JKP'], guidance_programs: [...real.guidance_programs, 'JKP'] };
    const { send, ready } = await open(() => changed);
    await ready;
    send(statusState);
    await waitForScreen(page, 'status');
    assert.equal(await page.locator('.tiles > .tile[data-program="JKP"]').count(), 1);
    const button = page.locator('[data-action="guidance"][data-program="JKP"]');
    assert.equal(await button.count(), 1);
    assert.ok(await button.locator('svg path, svg circle, svg rect, svg line, svg polyline').count() > 0, 'a neutral icon');
    // A programme taken out of the schema is gone from the screen.
    const fewer = { ...real, guidance_programs: real.guidance_programs.slice(0, -1) };
    page = await closeCheckedPage(page);
    const again = await open(() => fewer);
    await again.ready;
    again.send(statusState);
    await waitForScreen(page, 'status');
    const tiles = await page.locator('.tiles > .tile[data-program]').evaluateAll((els) => els.map((e) => e.dataset.program));
    assert.deepEqual(tiles, fewer.guidance_programs);
  });

  it('a card category outside the schema is not named on the status screen', async () => {
    const category = statusState.tap.card.category;
    assert.ok(real.categories.includes(category), `the demo card's category ${category} is in the schema`);
    const facts = async (doc) => {
      const { send, ready } = await open(() => doc);
      await ready;
      send(statusState);
      await waitForScreen(page, 'status');
      const text = (await page.locator('.person-facts').count()) ? await page.locator('.person-facts').innerText() : '';
      page = await closeCheckedPage(page);
      return text.split(' · ').filter(Boolean);
    };
    const named = await facts(real);
    const unnamed = await facts({ ...real, categories: real.categories.filter((c) => c !== category) });
    assert.equal(named.length, unnamed.length + 1, `${named.join(' · ')} vs ${unnamed.join(' · ')}`);
    assert.deepEqual(named.slice(1), unnamed, 'only the category is left out');
  });

  it('until /api/schema answers the kiosk shows "connecting" and draws no state', async () => {
    const { send, ready, requests } = await open((n) => (n <= 2 ? null : real));
    await page.waitForSelector('body[data-screen="connecting"]', { state: 'attached' });
    assert.equal(await page.locator('.tile').count(), 0);
    await ready;
    send(idleState);
    await waitForScreen(page, 'idle');
    assert.ok(requests() >= 3, 'the page asked again after the refusals');
    assert.equal(await page.evaluate(() => document.body.dataset.schema), 'loaded');
  });
});
