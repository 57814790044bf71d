// The staff console page in real Chromium, against the real daemon over mTLS:
// search by name, card number and NIK from the keyboard, the record view with
// its guidance script, the data age, the audit view for a supervisor and not for
// an operator, and axe-core with no serious violations on each view.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, openConsoleBrowser, startConsoleNode } from './lib/console.mjs';
import { seriousA11yViolations } from './lib/kiosk.mjs';

let node;
let op;
let sup;

before(async () => {
  // A mirror nobody serves: the node keeps answering and the page says the sync fails.
  node = await startConsoleNode(['mirror = https://127.0.0.1:9/']);
  op = await openConsoleBrowser(node, 'op1');
  sup = await openConsoleBrowser(node, 'sup1');
});

after(async () => {
  await op?.close();
  await sup?.close();
  await node?.stop();
});

async function searchFor(page, text, { kind = 'auto', kelurahan = '', rt = '' } = {}) {
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('/');  // the shortcut to the search box (selects what is there)
  await page.keyboard.type(text);
  await page.selectOption('#kind', kind);
  await page.fill('#kelurahan', kelurahan);
  await page.fill('#rt', rt);
  await page.focus('#q');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !/…/.test(document.getElementById('search-msg').textContent)
    && document.getElementById('search-msg').textContent !== '');
  return page.$$eval('.result', (bs) => bs.map((b) => b.dataset.card));
}

async function noProblems(page, expectedStatus = null) {
  // A refused request the test made on purpose shows up as a console error; nothing else may.
  const problems = page.problems.filter((p) => !(expectedStatus
    && p.includes(`status of ${expectedStatus}`)));
  assert.deepEqual(problems, [], 'no script errors');
  assert.deepEqual(await seriousA11yViolations(page), [], 'axe-core: no serious violations');
}

test('an operator finds a caller by name from the keyboard and reads the script', async () => {
  const page = await op.newPage();
  assert.match(await page.textContent('#who'), /op1/);
  assert.match(await page.textContent('#data-age'), /seri 1.*umur/);
  assert.equal(await page.isHidden('#tab-audit'), true, 'no audit tab for an operator');
  const cards = await searchFor(page, 'Muhamad Rizki', { kelurahan: 'Telanaipura', rt: '7' });
  assert.deepEqual(cards, ['KB-TEST-0004']);
  await noProblems(page);
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.card), 'KB-TEST-0004');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#view-record:not([hidden])');
  assert.match(await page.textContent('#rec-h'), /MUHAMMAD RIZKY/);
  assert.match(await page.textContent('#rec-verdict'), /AKTIF/);
  assert.match(await page.textContent('#rec-card'), /0004/);
  assert.match(await page.textContent('#rec-cov'), /SK-RT\/003\/2026/);
  const jkk = await page.textContent('#script section[data-program="JKK"]');
  assert.match(jkk, /Terlindungi/);
  assert.match(jkk, /PLKK/, 'the JKK covered guidance is read out');
  assert.match(jkk, /Semenisasi jalan lingkungan/, 'tailored: the Kampung Bahagia activity');
  const jkm = await page.textContent('#script section[data-program="JKM"]');
  assert.match(jkm, /Tidak terlindungi/);
  assert.match(await page.textContent('#data-age'), /umur/);
  // Identity check: the node holds only a keyed hash of the birth date, so the
  // operator types what the caller says and the page shows match or not.
  assert.doesNotMatch(await page.textContent('#view-record'), /1990-01-01/);
  await page.fill('#birth', '1990-01-02');
  await page.press('#birth', 'Enter');
  await page.waitForFunction(() => /TIDAK COCOK/.test(document.getElementById('birth-msg').textContent));
  await page.fill('#birth', '1990-01-01');
  await page.press('#birth', 'Enter');
  await page.waitForFunction(() => /^COCOK/.test(document.getElementById('birth-msg').textContent));
  await noProblems(page);
  await page.click('#lang');
  await page.waitForFunction(() => /Covered/.test(document.getElementById('script').textContent));
  assert.match(await page.textContent('#rec-verdict'), /ACTIVE/);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#view-search:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.card), 'KB-TEST-0004');
  await page.click('#lang');
  await page.close();
});

test('search by card number and by NIK; the NIK never comes back', async () => {
  const page = await op.newPage();
  assert.deepEqual(await searchFor(page, 'kb-test-0002'), ['KB-TEST-0002']);
  await page.fill('#q', '');
  const byNik = await searchFor(page, '1571010101900003');
  assert.deepEqual(byNik, ['KB-TEST-0003']);
  const text = await page.textContent('#results');
  assert.match(text, /…0003/);
  assert.doesNotMatch(text, /1571010101900003/);
  await page.fill('#q', '');
  const names = await searchFor(page, 'zoe', { kind: 'name' });
  assert.ok(names.includes('KB-TEST-0002'), 'Zoe finds Zoë');
  await page.fill('#q', '');
  await searchFor(page, '"siti*', { kind: 'name' });
  assert.match(await page.textContent('#search-msg'), /Gagal: name may hold only letters/);
  await noProblems(page, 400);
  await page.close();
});

test('the audit view is for supervisors only', async () => {
  const refused = await get(node, 'op1', '/api/console/audit');
  assert.equal(refused.status, 403);
  const page = await sup.newPage();
  assert.equal(await page.isVisible('#tab-audit'), true);
  await page.click('#tab-audit');
  await page.waitForFunction(() => document.querySelectorAll('#audit tbody tr').length > 0);
  assert.match(await page.textContent('#audit-verify'), /Rantai log utuh/);
  const rows = await page.textContent('#audit tbody');
  assert.match(rows, /op1/);
  assert.match(rows, /audit_view_refused/);
  assert.match(rows, /KB-TEST-0004/);
  assert.doesNotMatch(rows, /1571010101900003/, 'the NIK search is logged as a keyed hash');
  assert.match(rows, /nik_hash/);
  await noProblems(page);
  await page.close();
  // An operator's page shows the refusal, not the log.
  const opPage = await op.newPage();
  await opPage.evaluate(() => document.getElementById('tab-audit').click());
  await opPage.waitForFunction(() => document.getElementById('audit-verify').textContent !== '');
  assert.match(await opPage.textContent('#audit-verify'), /hanya untuk supervisor/);
  assert.equal(await opPage.$$eval('#audit tbody tr', (r) => r.length), 0);
  await opPage.close();
});

test('a failing sync is shown beside the data age, also after a search', async () => {
  for (let i = 0; ; i++) {  // the node's first sync attempt, at start
    const me = await get(node, 'op1', '/api/console/me');
    if (me.body?.data?.last_sync_error) break;
    assert.ok(i < 300, 'no failed sync reported by /api/console/me');
    await sleep(100);
  }
  const page = await op.newPage();
  assert.match(await page.textContent('#data-age'),
    /seri 1.*sinkronisasi gagal \(MIRROR_UNREACHABLE\)/);
  assert.deepEqual(await searchFor(page, 'KB-TEST-0001'), ['KB-TEST-0001']);
  assert.match(await page.textContent('#data-age'), /sinkronisasi gagal/, 'kept after a search');
  await noProblems(page);
  await page.close();
});
