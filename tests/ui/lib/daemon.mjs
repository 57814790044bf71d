// Starts the REAL kartu-bahagiad for one test file: --demo on a free loopback
// port with a fresh state directory, waits for /healthz, stops it at the end.
//
// Environment:
//   KB_DAEMON          path of the daemon binary
//                      (default build/dev/daemon/bin/kartu-bahagiad/kartu-bahagiad)
//   KB_DAEMON_ARGS     extra arguments, whitespace separated (appended)
//   KB_DAEMON_CONFIG   hook for the end-to-end run through libnfc + the PN532
//                      emulator: start `kartu-bahagiad --config FILE` instead of
//                      --demo; KB_DAEMON_URL then names where it listens.
//   KB_UI_EXTERNAL_URL debugging aid: use a kiosk that is already running at
//                      this URL and start nothing (timeout tests may then fail).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, UI_ROOT } from './paths.mjs';

export const DAEMON_BIN = path.resolve(REPO_ROOT,
  process.env.KB_DAEMON ?? 'build/dev/daemon/bin/kartu-bahagiad/kartu-bahagiad');

// Short timers so removal and no-touch timeouts are observable in a test run.
// The tests only wait for the screen to change, never measure how long it took.
export const TEST_TIMEOUTS = { removalMs: 1500, idleMs: 6000, errorMs: 15000 };

/**
 * The real daemon's GET /api/schema document (its closed lists: programmes,
 * categories, statuses), for tests that need the lists without a browser: one
 * short --demo run, so no test keeps a copy of its own.
 */
export async function daemonSchema() {
  const daemon = await startDaemon();
  try {
    const res = await fetch(`${daemon.baseUrl}/api/schema`);
    if (!res.ok) throw new Error(`GET /api/schema: HTTP ${res.status}`);
    return await res.json();
  } finally {
    await daemon.stop();
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function startDaemon({ timeouts = TEST_TIMEOUTS, port = null, stateDir = null, extraArgs = [] } = {}) {
  if (process.env.KB_UI_EXTERNAL_URL) {
    return { baseUrl: process.env.KB_UI_EXTERNAL_URL, stateDir: null, stderr: '', external: true, async stop() {} };
  }
  if (!existsSync(DAEMON_BIN)) {
    throw new Error(`daemon binary not found: ${DAEMON_BIN} (build it, or set KB_DAEMON)`);
  }
  const ownsStateDir = stateDir === null;
  const dir = stateDir ?? await mkdtemp(path.join(os.tmpdir(), 'kb-ui-state-'));
  let args;
  let baseUrl;
  if (process.env.KB_DAEMON_CONFIG) {
    args = ['--config', process.env.KB_DAEMON_CONFIG];
    baseUrl = process.env.KB_DAEMON_URL ?? 'http://127.0.0.1:8080';
  } else {
    const p = port ?? await freePort();
    args = ['--demo', '--listen', `127.0.0.1:${p}`, '--state-dir', dir,
      '--set', `removal_timeout_ms=${timeouts.removalMs}`,
      '--set', `idle_timeout_ms=${timeouts.idleMs}`,
      '--set', `error_timeout_ms=${timeouts.errorMs}`,
      '--set', `ui_dir=${UI_ROOT}`];
    baseUrl = `http://127.0.0.1:${p}`;
  }
  args.push(...extraArgs);
  if (process.env.KB_DAEMON_ARGS) args.push(...process.env.KB_DAEMON_ARGS.split(/\s+/).filter(Boolean));

  const child = spawn(DAEMON_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-20000); });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const deadline = Date.now() + 60000; // first start builds demo keys and a signed cache
  for (;;) {
    if (exited) throw new Error(`daemon exited early (${JSON.stringify(exited)}):\n${stderr}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`daemon did not become healthy at ${baseUrl}/healthz:\n${stderr}`);
    }
    await sleep(100);
  }

  return {
    baseUrl,
    stateDir: dir,
    get stderr() { return stderr; },
    async stop({ keepState = false } = {}) {
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 50 && !exited; i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
      }
      if (ownsStateDir && !keepState) await rm(dir, { recursive: true, force: true });
    },
  };
}
