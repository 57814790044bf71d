// The staff console for browser tests: a complete console node set up by
// tests/console/setup_node.sh (kbctl keys, staff snapshot, console PKI), the
// REAL kartu-bahagiad started with --config on a free port, and Chromium
// contexts that present an operator's PKCS#12 certificate.
//
// Environment: KB_DAEMON (as in daemon.mjs), KB_KBCTL (default build/dev/.../kbctl).
// Playwright presents client certificates through its own TLS client in Node
// (Chromium cannot be given one headlessly); the page itself runs in Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { DAEMON_BIN, freePort } from './daemon.mjs';
import { REPO_ROOT } from './paths.mjs';

export const KBCTL_BIN = path.resolve(REPO_ROOT,
  process.env.KB_KBCTL ?? 'build/dev/daemon/bin/kbctl/kbctl');
const CHROMIUM = process.env.KB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A plain HTTPS GET with an operator's certificate (status, parsed JSON body). */
export async function get(node, operator, p) {
  const [cert, key, ca] = await Promise.all([
    readFile(path.join(node.dir, 'pki/operators', `${operator}.pem`)),
    readFile(path.join(node.dir, 'pki/operators', `${operator}.key`)),
    readFile(path.join(node.dir, 'pki/console-ca.pem'))]);
  return new Promise((resolve, reject) => {
    const req = https.get(`${node.baseUrl}${p}`, { cert, key, ca, servername: 'localhost' }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let body = null;
        try { body = JSON.parse(data); } catch { body = data; }
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('error', reject);
  });
}

// configLines: extra lines for the node's config (e.g. a mirror).
export async function startConsoleNode(configLines = []) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kb-console-ui-'));
  const port = await freePort();
  execFileSync(path.join(REPO_ROOT, 'tests/console/setup_node.sh'),
    [KBCTL_BIN, dir, String(port), ...configLines], { stdio: ['ignore', 'ignore', 'inherit'] });
  const child = spawn(DAEMON_BIN, ['--config', path.join(dir, 'console.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const node = { dir, port, baseUrl: `https://127.0.0.1:${port}`, get stderr() { return stderr; } };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) throw new Error(`console daemon exited (${JSON.stringify(exited)}):\n${stderr}`);
    try {
      if ((await get(node, 'op1', '/healthz')).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`console not up:\n${stderr}`); }
    await sleep(100);
  }
  node.stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  return node;
}

/** Chromium presenting `operator`'s PKCS#12 (password "test", as setup_node.sh made it). */
export async function openConsoleBrowser(node, operator) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'kb-console-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 900 },
    ignoreHTTPSErrors: true,  // the console CA is not in Chromium's store; the TLS test checks it
    bypassCSP: true,  // axe-core is injected as an inline script
    clientCertificates: [{
      origin: node.baseUrl,
      pfxPath: path.join(node.dir, 'pki/operators', `${operator}.p12`),
      passphrase: 'test',
    }],
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
      page.problems = problems;
      await page.goto(`${node.baseUrl}/`);
      await page.waitForSelector('body[data-ready="true"]');
      return page;
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
