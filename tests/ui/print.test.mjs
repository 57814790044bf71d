// The printed slip, end to end: the real daemon with `printer = <pty>` of the
// ESC/POS emulator (tests/support/escpos-emulator), the "Cetak" button in real
// Chromium. The emulator decodes what the printer would print: the masked
// name only, the guidance steps, 112, the data's date, the QR of the public
// page, a cut. Paper out gives a calm message and the kiosk carries on (the
// slow printer's bound is tested against the driver in kb_printer_test).

import { describe, it, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { REPO_ROOT } from './lib/paths.mjs';
import {
  pickCard, waitForScreen, openKiosk, screenshot, PORTRAIT, startKiosk, stopKiosk, closeCheckedPage,
} from './lib/kiosk.mjs';

const EMULATOR = path.resolve(REPO_ROOT, process.env.KB_ESCPOS_EMULATOR ?? 'build/dev/tests/support/escpos-emulator');

/** Starts the emulator; resolves with its device path and a queue of printed jobs. */
async function startPrinter(mode) {
  const child = spawn(EMULATOR, ['--mode', mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const jobs = [];
  const waiting = [];
  let device;
  const ready = new Promise((resolve, reject) => {
    child.on('error', reject);
    lines.on('line', (line) => {
      if (!device) {
        device = line.trim();
        resolve();
        return;
      }
      jobs.push(JSON.parse(line));
      waiting.splice(0).forEach((w) => w());
    });
  });
  await ready;
  return {
    device,
    jobs,
    async nextJob(timeout = 10000) {
      if (jobs.length) return jobs[jobs.length - 1];
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no slip printed')), timeout);
        waiting.push(() => { clearTimeout(t); resolve(); });
      });
      return jobs[jobs.length - 1];
    },
    stop() { child.stdin.end(); child.kill(); },
  };
}

describe('printed slip', () => {
  let kiosk; let printer; let page;
  const cleanup = async () => {
    // A refused slip is a 503 from /api/print: expected, and said calmly on screen.
    page = await closeCheckedPage(page, /status of 503/);
    if (kiosk) await stopKiosk(kiosk);
    printer?.stop();
    kiosk = null;
    printer = null;
  };
  afterEach(cleanup);
  after(cleanup);

  async function openGuidance(mode, daemonArgs = []) {
    printer = await startPrinter(mode);
    kiosk = await startKiosk({ daemonArgs: ['--set', `printer=${printer.device}`, ...daemonArgs] });
    page = await kiosk.browser.newPage(PORTRAIT);
    await openKiosk(page, kiosk.daemon.baseUrl);
    await kiosk.api.tap(pickCard(kiosk.cards, 'ACTIVE').card_no);
    await waitForScreen(page, 'status');
    await page.locator('[data-action="guidance"][data-program="JKK"]').click();
    await page.waitForSelector('.guidance .g-main[data-loaded="true"]');
    await page.waitForSelector('[data-action="print"]:not([hidden])');
    return kiosk.api.state();
  }

  it('"Cetak" prints the guidance with the masked name, 112, the data date and the public QR', async () => {
    const state = await openGuidance('normal');
    await page.locator('[data-action="print"]').click();
    await page.waitForSelector('.g-print-status[data-print="done"]');
    assert.match(await page.locator('.g-print-status').innerText(), /Slip sudah dicetak/);
    await screenshot(page, 'guidance-JKK-printed');
    const job = await printer.nextJob();
    const text = job.lines.join('\n');
    assert.equal(job.initialised, true);
    assert.equal(job.cuts, 1);
    assert.deepEqual(job.qr, [`${state.public_guidance_url}/jkk?lang=id`]);
    assert.ok(text.includes(state.tap.card.holder), 'the masked name');
    assert.match(state.tap.card.holder, /\*/);
    assert.ok(!text.includes(state.tap.card.card_no), 'no card number');
    assert.match(text, /1\. Bila parah atau darurat/);
    assert.match(text, /2x24 jam/);
    assert.ok(job.bold.some((l) => l.includes('Call Center Bahagia 112')));
    assert.ok(job.bold.some((l) => /^Data per \d+ \S+ \d{4} \d\d\.\d\d WIB$/.test(l)), 'the data date');
  });

  it('paper out: a calm message, nothing printed, the kiosk carries on', async () => {
    await openGuidance('paper-out');
    await page.locator('[data-action="print"]').click();
    await page.waitForSelector('.g-print-status[data-print="paper_out"]');
    assert.match(await page.locator('.g-print-status').innerText(), /Kertas printer habis\. Pindai kode QR/);
    assert.equal(printer.jobs.length, 0);
    await screenshot(page, 'guidance-JKK-paper-out');
    await page.locator('[data-action="back"]').click();
    await waitForScreen(page, 'status');
  });

  it('a slow printer: the kiosk answers meanwhile, then gives up calmly at the job timeout', async () => {
    // The emulator takes the slip but confirms it only after 20 s, past the driver's 8 s
    // job timeout; the screen's idle timeout is raised above that so the page stays.
    await openGuidance('slow', ['--set', 'idle_timeout_ms=60000']);
    await page.locator('[data-action="print"]').click();
    await page.waitForSelector('.g-print-status[data-print="printing"]');
    const during = await kiosk.api.state();
    assert.equal(during.screen, 'guidance', 'the kiosk answers while the printer is busy');
    assert.equal(await page.locator('.g-print-status').getAttribute('data-print'), 'printing');
    await page.waitForSelector('.g-print-status[data-print="slow"]', { timeout: 20000 });
    assert.match(await page.locator('.g-print-status').innerText(), /Printer belum menjawab\. Pindai kode QR/);
    await screenshot(page, 'guidance-JKK-printer-slow');
    await page.locator('[data-action="back"]').click();
    await waitForScreen(page, 'status');
  });

  it('a printer unplugged after start-up: a calm message, the kiosk carries on', async () => {
    await openGuidance('normal');
    printer.stop(); // the pty goes away as a USB printer's device node does
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.locator('[data-action="print"]').click();
    await page.waitForSelector('.g-print-status[data-print="unplugged"]');
    assert.equal(printer.jobs.length, 0);
    await page.locator('[data-action="back"]').click();
    await waitForScreen(page, 'status');
  });

  it('no printer configured: no button', async () => {
    kiosk = await startKiosk();
    page = await kiosk.browser.newPage(PORTRAIT);
    await openKiosk(page, kiosk.daemon.baseUrl);
    await kiosk.api.tap(pickCard(kiosk.cards, 'ACTIVE').card_no);
    await waitForScreen(page, 'status');
    await page.locator('[data-action="guidance"][data-program="JKM"]').click();
    await page.waitForSelector('.guidance .g-main[data-loaded="true"]');
    assert.equal(await page.locator('[data-action="print"]').isVisible(), false);
    const res = await fetch(`${kiosk.daemon.baseUrl}/api/print`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error, 'NO_PRINTER');
  });
});
