// Load on a console node over mTLS: CLIENTS keep-alive connections, each
// sending one request after the other for SECONDS, over a list of paths
// (closed loop: throughput at saturation), or, with INTERVAL_MS, each client
// sending one request every INTERVAL_MS (open loop at operator pace; a late
// answer delays only that client's next request). Prints requests/s and
// latency percentiles (ms). Wall-clock figures: a benchmark, never part of
// `make test`.
// usage: node console_load.mjs URL CERT KEY CA CLIENTS SECONDS PATHS_FILE [INTERVAL_MS]
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [url, certFile, keyFile, caFile, clientsArg, secondsArg, pathsFile, intervalArg] =
  process.argv.slice(2);
const interval = Number(intervalArg ?? 0);
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
const paths = readFileSync(pathsFile, 'utf8').split('\n').filter(Boolean);
const agent = new https.Agent({
  keepAlive: true, maxSockets: clients, cert: readFileSync(certFile), key: readFileSync(keyFile),
  ca: readFileSync(caFile), servername: 'localhost',
});

function get(p) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = https.get(`${url}${p}`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
  });
}

const lat = [];
const statuses = {};
const end = Date.now() + seconds * 1000;
let next = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function client(i) {
  // Open loop: clients start spread over one interval, then keep their pace.
  let due = Date.now() + (interval ? (i * interval) / clients : 0);
  while (Date.now() < end) {
    if (interval) {
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      due += interval;
      if (Date.now() >= end) break;
    }
    const r = await get(paths[next++ % paths.length]);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    lat.push(r.ms);
  }
}
// Warm up: open every connection (TLS handshakes are not what is measured).
await Promise.all(Array.from({ length: clients }, () => get(paths[0])));
const t0 = Date.now();
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
const elapsed = (Date.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
console.log(JSON.stringify({ requests: lat.length, rps: Math.round(lat.length / elapsed),
  p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: lat[lat.length - 1].toFixed(2), statuses }));
agent.destroy();
