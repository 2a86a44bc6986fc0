// model.predictAsync (lib/serve/snapshot.ts, predict-worker.ts) under a breaker's sequences: every answer
// must equal predict()'s at the call, bit for bit, whatever failed before it.
//
// The worker runs the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, ones, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { Scale } from '../helpers/scale.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));
const dist = new URL('../../dist/index.js', import.meta.url).href;
const scaleLayer = new URL('../serve/fixtures/scale-layer.mjs', import.meta.url);


afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('predictAsync after a failed load (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('weights changed while the worker could not rebuild the model are seen once imports arrive (no stale answer)', async () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(3, 3), new Scale(3));
    const x = ones([2, 3]);
    // Without imports the worker cannot rebuild the custom layer: the error says what to give.
    await expect(model.predictAsync(x)).rejects.toThrow(/cannot rebuild the model: .*unknown module type 'Scale'.*options\.imports/);
    model.parameters()[0].data.fill(7); // a change the failed worker cannot apply
    // The same error again (not an internal one about missing tensors).
    await expect(model.predictAsync(x)).rejects.toThrow(/cannot rebuild the model: .*unknown module type 'Scale'/);
    const y = await model.predictAsync(x, { imports: [scaleLayer] });
    expect(bits(y)).toEqual(bits(model.predict(x)));
  });
});

describe('predictAsync: a refused first call', () => {
  it('starts no worker (in process), and the process still exits by itself (child process)', async () => {
    const model = new nn.Sequential(new nn.Linear(4, 2));
    await expect(model.predictAsync(null as unknown as Tensor)).rejects.toThrow(/fathom\.predictAsync: x must be a Tensor.*got null/);
    expect(liveWorkers.size).toBe(0);
    // Before the fix a worker started, stayed ref'd (its 'message' listener re-refs it) and the
    // process never ended: spawnSync's timeout kills it (r.signal 'SIGTERM').
    const src = `import { nn } from ${JSON.stringify(dist)};
const m = new nn.Sequential(new nn.Linear(4, 2));
await m.predictAsync(null).catch((e) => console.log(e.message.split(':')[0]));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('fathom.predictAsync');
  });
});
