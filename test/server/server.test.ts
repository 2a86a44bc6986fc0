// The example service examples/server/server.mjs (issue #13), started as a child process on an ephemeral
// loopback port with a tiny untrained model file (Linear 784→10), once per backend (FATHOM_BACKEND):
// /health, a /predict round trip checked row by row against model.predict here, 400s on bad input with
// their messages, /stats fields, and graceful shutdown on SIGTERM: requests the server has received
// (proved by its `100 Continue`) are all answered after the signal, new connections are refused, exit 0;
// the --direct mode; POST /train (fitInWorker on MNIST beside serving, then the hot swap).
//
// The server imports the compiled package (dist/, which `npm test` builds first).
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, rand, save, setBackend, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

type Running = RunningServer;

/** Starts the server and resolves once it prints its port. */
const start = (modelPath: string, backend: string, extra: string[] = []): Promise<Running> => startServer(modelPath, extra, backend);

async function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** What the server should answer for x: softmax of model.predict(x), row by row, and each row's argmax. */
function expected(model: nn.Module, x: Tensor): { classes: number[]; probabilities: number[][] } {
  const y = model.predict(x);
  const [n, k] = y.shape;
  const classes: number[] = [], probabilities: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(y.data.subarray(i * k, (i + 1) * k));
    const e = row.map((v) => Math.exp(v - Math.max(...row)));
    const s = e.reduce((a, b) => a + b, 0);
    probabilities.push(e.map((v) => v / s));
    classes.push(row.indexOf(Math.max(...row)));
  }
  return { classes, probabilities };
}

const rows = (x: Tensor): number[][] => Array.from({ length: x.shape[0] }, (_, i) => Array.from(x.data.subarray(i * 784, (i + 1) * 784)));

function expectAnswer(got: { classes: number[]; probabilities: number[][] }, want: ReturnType<typeof expected>): void {
  expect(got.classes).toEqual(want.classes);
  expect(got.probabilities.length).toBe(want.probabilities.length);
  got.probabilities.forEach((p, i) => p.forEach((v, j) => expect(v).toBeCloseTo(want.probabilities[i][j], 6)));
}

let dir: string;
let model: nn.Sequential;
let modelPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fathom-server-'));
  modelPath = join(dir, 'tiny.safetensors');
  manualSeed(7);
  model = new nn.Sequential(new nn.Linear(784, 10));
  await save(model, modelPath);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(backends)('examples/server (%s)', (name) => {
  let s: Running;
  beforeAll(async () => {
    setBackend(name);
    s = await start(modelPath, name);
  });
  afterAll(() => { if (s.child.exitCode === null) s.child.kill('SIGKILL'); });

  it('answers /health, /predict (row by row as model.predict), 400s on bad input, /stats, then shuts down gracefully', async () => {
    const health = await call(s.port, 'GET', '/health');
    expect(health).toEqual({ status: 200, json: { status: 'ok', model: modelPath, mode: 'batching', backend: name } });

    // Round trip: one image, a list of images, and concurrent requests (merged into batches).
    manualSeed(11);
    const x = rand([9, 784]);
    const want = expected(model, x);
    const one = await call(s.port, 'POST', '/predict', rows(x)[0]);
    expect(one.status).toBe(200);
    expectAnswer(one.json, { classes: want.classes.slice(0, 1), probabilities: want.probabilities.slice(0, 1) });
    const list = await call(s.port, 'POST', '/predict', rows(x));
    expect(list.status).toBe(200);
    expectAnswer(list.json, want);
    const each = await Promise.all(rows(x).map((r) => call(s.port, 'POST', '/predict', [r])));
    each.forEach((r, i) => expectAnswer(r.json, { classes: [want.classes[i]], probabilities: [want.probabilities[i]] }));

    // Bad input: 400 with a message saying what was expected and what came.
    const bad = async (body: unknown, message: RegExp) => {
      const r = await call(s.port, 'POST', '/predict', body);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(message);
    };
    await bad('{"image": ', /not valid JSON/);
    await bad({ image: [] }, /must be an image \(an array of 784 numbers in \[0, 1\]\) or a list/);
    await bad([], /got an empty array/);
    await bad([0.5, 0.5], /image 0 must be an array of 784 numbers, got 2 values/);
    const outOfRange = rows(x)[0];
    outOfRange[5] = 1.5;
    await bad(outOfRange, /image 0, value 5 must be a number in \[0, 1\], got 1\.5/);
    await bad([rows(x)[0], [...rows(x)[1].slice(0, 3), 'a', ...rows(x)[1].slice(4)]], /image 1, value 3 must be a number in \[0, 1\], got "a"/);
    await bad(Array.from({ length: 257 }, () => rows(x)[0]), /at most 256 images per request, got 257/);
    expect((await call(s.port, 'GET', '/nope')).status).toBe(404);
    expect((await call(s.port, 'GET', '/predict')).status).toBe(405);

    // /stats: the predictor's counters, memory, event-loop delay.
    const { status, json: st } = await call(s.port, 'GET', '/stats');
    expect(status).toBe(200);
    expect(st.mode).toBe('batching');
    expect(st.requests.predictions).toBe(1 + 9 + 9);
    expect(st.requests.errors4xx).toBe(9);
    expect(st.predictor.completed).toBe(11);
    expect(st.predictor.batches).toBeGreaterThanOrEqual(3);
    expect(st.predictor.batches).toBeLessThanOrEqual(11);
    expect(st.predictor.latencyMs.p99).toBeGreaterThan(0);
    for (const k of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers']) expect(st.memoryMiB[k]).toBeGreaterThan(0);
    for (const k of ['p50', 'p90', 'p99', 'max', 'mean']) expect(st.eventLoopDelayMs[k]).toBeGreaterThan(0);
    expect(st.eventLoopDelayMs.p99).toBeLessThanOrEqual(st.eventLoopDelayMs.max);
    expect(st.training.state).toBe('idle');
    expect((await call(s.port, 'POST', '/stats/reset')).status).toBe(200);
    expect((await call(s.port, 'GET', '/stats')).json.eventLoopDelayMs.samples).toBeLessThan(st.eventLoopDelayMs.samples);

    // Graceful shutdown: 6 requests whose headers the server has read (it sent `100 Continue`), SIGTERM,
    // then their bodies: every one is answered correctly, a new connection is refused, the exit code is 0.
    const pending = rows(x).slice(0, 6).map((r) => {
      const body = JSON.stringify([r]);
      const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/predict', agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' } });
      const continued = new Promise<void>((resolve) => req.on('continue', () => resolve()));
      const answered = new Promise<{ status: number; json: any }>((resolve, reject) => {
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { text += c; });
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        });
      });
      req.flushHeaders();
      return { continued, answered, send: () => req.end(body) };
    });
    await Promise.all(pending.map((p) => p.continued));
    const stopping = new Promise<void>((resolve) => s.child.stdout.on('data', () => { if (s.out.join('').includes('SIGTERM: shutting down')) resolve(); }));
    s.child.kill('SIGTERM');
    await stopping;
    await expect(fetch(`http://127.0.0.1:${s.port}/health`)).rejects.toThrow();
    pending.forEach((p) => p.send());
    const answers = await Promise.all(pending.map((p) => p.answered));
    answers.forEach((r, i) => {
      expect(r.status).toBe(200);
      expectAnswer(r.json, { classes: [want.classes[i]], probabilities: [want.probabilities[i]] });
    });
    expect(await s.exit).toBe(0);
    expect(s.out.join('')).toContain('[server] bye');
  });
});

describe('examples/server --direct', () => {
  it('answers /predict with model.predict on its JS thread, the same as the batching mode', async () => {
    setBackend(backends[0]);
    const s = await start(modelPath, backends[0], ['--direct']);
    try {
      manualSeed(12);
      const x = rand([3, 784]);
      const r = await call(s.port, 'POST', '/predict', rows(x));
      expect(r.status).toBe(200);
      expectAnswer(r.json, expected(model, x));
      const st = await call(s.port, 'GET', '/stats');
      expect(st.json.mode).toBe('direct');
      expect(st.json.predictor).toBeNull();
      s.child.kill('SIGINT');
      expect(await s.exit).toBe(0);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });
});

describe('examples/server POST /train', () => {
  it('trains beside serving (fitInWorker), then hot-swaps the model: later answers come from new weights', async () => {
    setBackend(backends[0]);
    const s = await start(modelPath, backends[0]);
    try {
      manualSeed(13);
      const x = rows(rand([2, 784]));
      const before = await call(s.port, 'POST', '/predict', x);
      expect((await call(s.port, 'DELETE', '/train')).status).toBe(409); // nothing to stop
      expect((await call(s.port, 'POST', '/train', { epochs: 0 })).json.error).toMatch(/epochs must be an integer from 1 to 100, got 0/);
      expect(await call(s.port, 'POST', '/train', { epochs: 1 })).toEqual({ status: 202, json: { training: 'started', epochs: 1 } });
      expect((await call(s.port, 'POST', '/train', { epochs: 1 })).status).toBe(409); // one run at a time
      let st;
      while ((st = (await call(s.port, 'GET', '/stats')).json).training.state === 'running') {
        expect((await call(s.port, 'POST', '/predict', x)).status).toBe(200); // serving goes on
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(st.training).toMatchObject({ state: 'done', runs: 1, swaps: 1, epoch: 1 });
      const after = await call(s.port, 'POST', '/predict', x);
      expect(after.status).toBe(200);
      expect(after.json.probabilities).not.toEqual(before.json.probabilities);
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });
});
