// model.predictAsync(x, { signal }) (lib/serve/snapshot.ts): an aborted signal rejects at once and starts
// nothing; aborting while the request waits on this thread (for the worker to start, or behind the model's
// earlier requests) removes it and rejects with signal.reason, and the other requests still get predict()'s
// rows, with every weight change made before them; a request already handed to the worker completes; one
// signal shared by many calls holds one 'abort' listener at most, none once they are settled.
//
// The worker runs the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { hasPredictWorker, predictAsyncTuning } from '../../lib/serve/snapshot.js';
import { sameRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
}


/** The promise's rejection reason (fails if it resolves). */
async function reason(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => { throw new Error('expected a rejection, got an answer'); }, (e: unknown) => e);
}

// Exactly two requests handed to a worker at a time (the least there is), whatever the requests cost:
// which requests are still waiting is then known at each call, independent of the machine's speed.
const budget = predictAsyncTuning.handedMs;
beforeAll(() => { predictAsyncTuning.handedMs = 0; });
afterAll(() => { predictAsyncTuning.handedMs = budget; });

afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('predictAsync { signal } (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('aborting while requests wait for the worker to start or behind earlier ones rejects them; the others get predict()\'s rows and every change before them', async () => {
    const model = mlp(1);
    manualSeed(2);
    const xs = Array.from({ length: 8 }, (_, i) => randn([1 + i, 6]));
    // A cold model: every request waits for the worker's start. #1 and #5 share one signal, #3 has its own.
    const shared = new AbortController();
    const own = new AbortController();
    const signals = [undefined, shared.signal, undefined, own.signal, undefined, shared.signal, undefined, undefined];
    const want: Tensor[] = [];
    const calls = xs.map((x, i) => {
      // A weight change before each call: the requests after a cancelled one still need it.
      (model.layers[2] as nn.Linear).bias!.data[i % 3] += 0.125;
      want.push(model.predict(x));
      return model.predictAsync(x, { signal: signals[i] });
    });
    const sharedReason = new Error('shutdown');
    shared.abort(sharedReason);
    own.abort(); // no reason given: an AbortError DOMException
    const settled = await Promise.allSettled(calls);
    for (const [i, s] of settled.entries()) {
      if (i === 1 || i === 5) expect(s, `call ${i}`).toEqual({ status: 'rejected', reason: sharedReason });
      else if (i === 3) expect(s.status === 'rejected' && (s.reason as Error).name).toBe('AbortError');
      else sameRows((s as PromiseFulfilledResult<Tensor>).value, want[i], `call ${i}`);
    }

    // A warm worker: two requests are handed to it at the call, the rest wait behind them on this thread.
    const warm = xs.map((x) => model.predict(x));
    const queued = new AbortController();
    const behind = xs.map((x, i) => model.predictAsync(x, { signal: i >= 2 && i % 2 === 0 ? queued.signal : undefined }));
    queued.abort(sharedReason);
    const out = await Promise.allSettled(behind);
    for (const [i, s] of out.entries()) {
      if (i >= 2 && i % 2 === 0) expect(s, `queued call ${i}`).toEqual({ status: 'rejected', reason: sharedReason });
      else sameRows((s as PromiseFulfilledResult<Tensor>).value, warm[i], `queued call ${i}`);
    }
    expect(getEventListeners(queued.signal as EventTarget, 'abort').length).toBe(0);
  });

  it('a request already handed to the worker completes normally when its signal aborts', async () => {
    const model = mlp(3);
    manualSeed(4);
    const x = randn([5, 6]);
    sameRows(await model.predictAsync(x), model.predict(x), 'warm-up'); // the worker is ready and idle
    const c = new AbortController();
    const p = model.predictAsync(x, { signal: c.signal }); // handed at the call: nothing else outstanding
    expect(getEventListeners(c.signal as EventTarget, 'abort').length).toBe(0); // no longer cancellable: not watched
    c.abort(new Error('too late'));
    sameRows(await p, model.predict(x), 'handed over');
  });

  it('cheap requests are handed in bulk: with no time budget limit, a warm worker takes every request at the call and none can be cancelled', async () => {
    const model = mlp(11);
    manualSeed(12);
    const xs = Array.from({ length: 8 }, (_, i) => randn([1 + i, 6]));
    await model.predictAsync(xs[0]); // the worker's time per request is known from its first answer
    predictAsyncTuning.handedMs = Infinity;
    try {
      const c = new AbortController();
      const calls = xs.map((x) => model.predictAsync(x, { signal: c.signal }));
      expect(getEventListeners(c.signal as EventTarget, 'abort').length).toBe(0); // all handed: none watched
      c.abort();
      const ys = await Promise.all(calls);
      ys.forEach((y, i) => sameRows(y, model.predict(xs[i]), `call ${i}`));
    } finally {
      predictAsyncTuning.handedMs = 0;
    }
  });
});

describe('predictAsync { signal }: before the call, bad signals, many calls on one signal', () => {
  it('an already aborted signal rejects at once with its reason, takes no snapshot and starts no worker', async () => {
    const model = mlp(5);
    manualSeed(6);
    const x = randn([2, 6]);
    const why = { code: 'GONE' };
    expect(await reason(model.predictAsync(x, { signal: AbortSignal.abort(why) }))).toBe(why);
    expect(hasPredictWorker(model)).toBe(false);
    expect(liveWorkers.size).toBe(0);
    // The model changes after the refused call: the next call answers for the weights then.
    (model.layers[0] as nn.Linear).weight.data[0] += 1;
    sameRows(await model.predictAsync(x), model.predict(x), 'after a refused call');
  });

  it('refuses a signal that is not an AbortSignal, naming it, and starts no worker', async () => {
    const model = mlp(7);
    const x = randn([2, 6]);
    const bad: unknown[] = [{}, 'abort', null, 3, { aborted: false, addEventListener() {}, removeEventListener() {} }];
    for (const signal of bad) {
      const e = await reason(model.predictAsync(x, { signal } as never));
      expect((e as Error).message).toMatch(/^fathom\.predictAsync: options\.signal must be an AbortSignal, got /);
    }
    expect(liveWorkers.size).toBe(0);
  });

  it('one signal shared by hundreds of calls over two models holds at most one listener, none once settled, and no warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const models = [mlp(8), mlp(9)];
      manualSeed(10);
      const x = randn([3, 6]);
      const want = models.map((m) => m.predict(x));
      const server = new AbortController();
      const listeners = (): number => getEventListeners(server.signal as EventTarget, 'abort').length;
      // Never aborted: every call is answered and the listener goes when the last one is handed over.
      const calls = Array.from({ length: 400 }, (_, i) => models[i % 2].predictAsync(x, { signal: server.signal }));
      expect(listeners()).toBe(1);
      const ys = await Promise.all(calls);
      ys.forEach((y, i) => sameRows(y, want[i % 2], `call ${i}`));
      expect(listeners()).toBe(0);
      // Aborted with 400 calls waiting: the two handed to each worker are answered, the others reject.
      const more = Array.from({ length: 400 }, (_, i) => models[i % 2].predictAsync(x, { signal: server.signal }));
      expect(listeners()).toBe(1);
      const why = new Error('server closing');
      server.abort(why);
      expect(listeners()).toBe(0);
      const settled = await Promise.allSettled(more);
      const answered = settled.filter((s) => s.status === 'fulfilled');
      expect(answered.length).toBe(4); // two handed to each model's worker (handedMs = 0)
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') sameRows(s.value, want[i % 2], `call ${i}`);
        else expect(s.reason).toBe(why);
      });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
