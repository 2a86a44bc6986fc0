// BatchingPredictor under a seeded random load (lib/serve/batching.ts: rows copied at the call into the
// shared buffer of the batch they join, batches waiting in a list, cancellation moving later rows down,
// buffers recycled, the timer re-armed only for a new deadline). Many callers with random row counts (some
// larger than maxBatchSize, so split over batches), random awaits between calls, signals shared and
// separate aborted at random moments (at once, a microtask later, a timer later), setModel in the middle,
// a first request of the wrong shape right after a setModel (it sets the shape; the model refuses it,
// sometimes split over batches with rows still waiting when the first batch fails), a small maxQueue, and
// close() while all of that runs. Checked for every request:
//   - answered: its rows, row by row, as model.predict on this thread gives them, with the weights current
//     when it was made (setModel: old requests old weights, new requests new ones);
//   - refused at the call only for a reason that held at the call (queue full: queueDepth was maxQueue;
//     shape: a wrong-shape request was pending; closed: close() was called);
//   - rejected later only with its own signal's reason (and only if that signal was aborted), or, for a
//     wrong-shape request, with the model's error;
// and after each round: nothing waiting or running, stats counts adding up to the requests, and the rows of
// all batches run equal to the rows answered (nothing run twice, nothing dropped) where no batch failed.
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';
import { mulberry32 } from '../../lib/data/random.js';

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

/** The test's own choices (weights and inputs come from manualSeed): lib/data/random.ts's mulberry32. */
const rng = mulberry32;

type Kind = 'f32' | 'i32' | 'zero';
interface Config {
  seed: number;
  kind: Kind;
  maxBatchSize: number;
  maxDelayMs: number;
  answersPerTurn: number;
  workers: number;
  maxQueue: number;
  /** Inject wrong-shape first requests after setModel. */
  wrong: boolean;
}

const W = 5; // f32 features
const L = 3; // i32 tokens per row
const VOCAB = 11;

function makeModel(kind: Kind, seed: number): nn.Module {
  manualSeed(seed);
  if (kind === 'f32') return new nn.Sequential(new nn.Linear(W, 7), new nn.ReLU(), new nn.Linear(7, 3));
  if (kind === 'i32') return new nn.Sequential(new nn.Embedding(VOCAB, 4), new nn.Flatten(), new nn.Linear(L * 4, 2));
  return new nn.Sequential(new nn.ReLU()); // rows of width 0: [N, 0] → [N, 0]
}

function input(kind: Kind, n: number, rand: () => number, wrong = false): Tensor {
  if (kind === 'f32') return randn([n, wrong ? W + 1 : W]);
  if (kind === 'i32') {
    const l = wrong ? L + 1 : L;
    const d = new Int32Array(n * l);
    for (let i = 0; i < d.length; i++) d[i] = Math.floor(rand() * VOCAB);
    return new Tensor(d, [n, l]);
  }
  return new Tensor(new Float32Array(0), [n, 0]);
}

interface Req {
  x: Tensor;
  version: number;
  wrong: boolean;
  reason?: Error; // the reason its signal is (or will be) aborted with
  aborted: () => boolean;
  outcome?: { ok: true; y: Tensor } | { ok: false; e: unknown };
}

async function pause(rand: () => number): Promise<void> {
  const p = rand();
  if (p < 0.4) return;
  if (p < 0.6) await Promise.resolve();
  else if (p < 0.8) await new Promise((r) => setImmediate(r));
  else await new Promise((r) => setTimeout(r, Math.floor(rand() * 3)));
}

/** A refusal at the call (predict's own checks), as opposed to an outcome of an accepted request. */
const REFUSED = /the predictor is closed|the queue is full|per-sample shape/;

async function runConfig(c: Config): Promise<void> {
  const rand = rng(c.seed);
  manualSeed(c.seed);
  const models = [makeModel(c.kind, c.seed * 10)];
  const bp = new serve.BatchingPredictor(models[0], {
    maxBatchSize: c.maxBatchSize, maxDelayMs: c.maxDelayMs, answersPerTurn: c.answersPerTurn, workers: c.workers, maxQueue: c.maxQueue,
  });
  let accepted = 0;
  let rowsAnswered = 0;
  let wrongPending = 0;
  let wrongSent = false;
  let closing: Promise<void> | undefined;
  const all: Req[] = [];
  const settle: Promise<void>[] = [];
  const rounds = 4;
  /** Calls predict, records the outcome and checks a refusal at the call against the state at the call. */
  const call = (r: Req, signal?: AbortSignal): void => {
    all.push(r);
    const queued = bp.stats().queueDepth;
    const wasClosing = closing !== undefined;
    const wasWrong = wrongPending > 0;
    const wasAborted = signal?.aborted === true;
    if (r.wrong) wrongPending++;
    const p = bp.predict(r.x, signal ? { signal } : undefined);
    settle.push(p.then(
      (y) => { r.outcome = { ok: true, y }; },
      (e: unknown) => { r.outcome = { ok: false, e }; },
    ).then(() => {
      if (r.wrong) wrongPending--;
      const o = r.outcome!;
      if (wasAborted && !wasClosing && queued < c.maxQueue) {
        // Refused (not counted): the signal was aborted before the call (or the shape, while a wrong request was pending).
        if (!(wasWrong && !o.ok && /per-sample shape/.test(String(o.e)))) expect(!o.ok && o.e, 'a request whose signal was aborted before the call').toBe(r.reason);
        return;
      }
      const refused = !o.ok && REFUSED.test(String(o.e));
      if (wasClosing || queued >= c.maxQueue) expect(refused, `refused at the call: ${String(!o.ok && o.e)}`).toBe(true);
      if (refused) {
        const m = String(!o.ok && o.e);
        if (/closed/.test(m)) expect(wasClosing).toBe(true);
        else if (/queue is full/.test(m)) expect(queued).toBeGreaterThanOrEqual(c.maxQueue);
        else expect(wasWrong, m).toBe(true);
        return;
      }
      accepted++;
      if (o.ok) {
        expect(r.wrong, 'a wrong-shape request was answered').toBe(false);
        expectRows(o.y, models[r.version], r.x);
        rowsAnswered += r.x.shape[0];
      } else if (r.wrong) {
        wrongSent = true;
        expect(String(o.e)).toMatch(/^Error: fathom\./);
      } else {
        // An accepted request rejects only with its own signal's reason, once that signal was aborted.
        if (o.e !== r.reason) throw new Error(`a request of ${r.x.shape[0]} rows rejected with ${String(o.e)}`);
        expect(r.aborted()).toBe(true);
      }
    }));
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const groups = [0, 1, 2].map((g) => ({ ac: new AbortController(), reason: new Error(`group ${round}.${g} aborted`) }));
      const n = 25 + Math.floor(rand() * 25);
      const closeAt = round === rounds - 1 ? Math.floor(rand() * n) : -1;
      for (let i = 0; i < n; i++) {
        if (i === closeAt) closing = bp.close();
        if (!closing && rand() < 0.08) {
          models.push(makeModel(c.kind, c.seed * 10 + models.length));
          bp.setModel(models[models.length - 1]);
          if (c.wrong && rand() < 0.6) {
            // The first request after setModel, of the wrong shape: it sets the shape, the model refuses it
            // (split over batches when larger than maxBatchSize: its later rows wait when the first fails).
            const big = rand() < 0.5;
            const x = input(c.kind, big ? c.maxBatchSize * 2 + 1 : 1 + Math.floor(rand() * c.maxBatchSize), rand, true);
            call({ x, version: models.length - 1, wrong: true, aborted: () => false });
          }
        }
        const x = input(c.kind, 1 + Math.floor(rand() * (2 * c.maxBatchSize + 1)), rand);
        const s = rand();
        let signal: AbortSignal | undefined;
        let reason: Error | undefined;
        let abortNow: (() => void) | undefined;
        if (s < 0.25) {
          const g = groups[Math.floor(rand() * groups.length)];
          signal = g.ac.signal;
          reason = g.reason;
        } else if (s < 0.5) {
          const ac = new AbortController();
          const why = new Error(`request ${round}.${i} aborted`);
          signal = ac.signal;
          reason = why;
          const when = rand();
          if (when < 0.3) queueMicrotask(() => ac.abort(why));
          else if (when < 0.6) setTimeout(() => ac.abort(why), Math.floor(rand() * 4));
          else if (when < 0.8) setImmediate(() => ac.abort(why));
          else abortNow = () => ac.abort(why);
        }
        const sig = signal;
        call({ x, version: models.length - 1, wrong: false, reason, aborted: () => sig?.aborted === true }, sig);
        abortNow?.();
        if (rand() < 0.05) {
          const g = groups[Math.floor(rand() * groups.length)];
          g.ac.abort(g.reason);
        }
        await pause(rand);
      }
      for (const g of groups) if (rand() < 0.5) g.ac.abort(g.reason);
      await Promise.all(settle);
      settle.length = 0;
      for (const r of all) expect(r.outcome).toBeDefined();
      all.length = 0;
      // A wrong request split over batches rejects with its first failed batch; the others may still run.
      for (let k = 0; k < 5000 && bp.stats().inFlight > 0; k++) await new Promise((r) => setTimeout(r, 1));
      const st = bp.stats();
      expect({ queueDepth: st.queueDepth, queuedRows: st.queuedRows, inFlight: st.inFlight }).toEqual({ queueDepth: 0, queuedRows: 0, inFlight: 0 });
      expect(st.completed + st.cancelled + st.failed).toBe(accepted);
      expect(st.batchSizes[0]).toBe(0);
      expect(st.batches).toBe(st.batchSizes.reduce((a, k) => a + k, 0));
      const rowsRun = st.batchSizes.reduce((a, k, i) => a + k * i, 0);
      if (!wrongSent) expect(rowsRun).toBe(rowsAnswered); // no batch failed: every row run once, for its answer
      else expect(rowsRun).toBeGreaterThanOrEqual(rowsAnswered);

    }
    expect(bp.stats().completed).toBeGreaterThan(0);
    await closing;
    await expect(bp.predict(input(c.kind, 1, rand))).rejects.toThrow(/closed/);
  } finally {
    await bp.close();
  }
}

const backend = nativeBinding() ? 'native' : 'ts';
const CONFIGS: Config[] = [
  { seed: 1, kind: 'f32', maxBatchSize: 4, maxDelayMs: 1, answersPerTurn: 2, workers: 1, maxQueue: 1024, wrong: false },
  { seed: 2, kind: 'f32', maxBatchSize: 1, maxDelayMs: 0, answersPerTurn: 16, workers: 1, maxQueue: 1024, wrong: true },
  { seed: 3, kind: 'f32', maxBatchSize: 7, maxDelayMs: 3, answersPerTurn: Infinity, workers: 2, maxQueue: 6, wrong: true },
  { seed: 4, kind: 'i32', maxBatchSize: 5, maxDelayMs: 2, answersPerTurn: 1, workers: 1, maxQueue: 1024, wrong: true },
  { seed: 5, kind: 'zero', maxBatchSize: 3, maxDelayMs: 1, answersPerTurn: 3, workers: 1, maxQueue: 1024, wrong: false },
  { seed: 6, kind: 'f32', maxBatchSize: 16, maxDelayMs: 0, answersPerTurn: 4, workers: 2, maxQueue: 1024, wrong: false },
];

describe(`BatchingPredictor seeded stress (${backend})`, () => {
  for (const c of CONFIGS) {
    it(`seed ${c.seed}: ${c.kind}, maxBatchSize ${c.maxBatchSize}, maxDelayMs ${c.maxDelayMs}, answersPerTurn ${c.answersPerTurn}, workers ${c.workers}, maxQueue ${c.maxQueue}${c.wrong ? ', wrong-shape first requests' : ''}`, async () => {
      setBackend(backend);
      await runConfig(c);
    }, 30_000);
  }
});
