// fitInWorker (lib/serve/fit.ts, fit-worker.ts): what a user gets wrong is named before a worker starts
// and in plain words. The worker runs this checkout's dist/ (`npx tsc -p tsconfig.json` first).
import { afterEach, describe, expect, it } from 'vitest';
import { fitInWorker, manualSeed, nn, optim, randn, serialize, serve } from '../../lib/index.js';
import { fitWorkerStats, liveWorkers } from '../../lib/serve/fit.js';

afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe('fitInWorker: optimizer names', () => {
  it('an unknown name is refused on this thread (no worker), with the known names and a hint, also with checkpoint bytes', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(4, 2));
    const x = randn([8, 4]);
    const y = randn([8, 2]);
    const ckpt = serialize(model, { optimizer: new optim.Adam(model.parameters()) });
    const started = fitWorkerStats.started + fitWorkerStats.reused;
    // Before the fix, with checkpoint bytes: "options.optimizer is "nope", but the model's bytes hold the state of a Adam optimizer".
    await expect(fitInWorker(ckpt, x, y, { loss: 'mse', optimizer: 'nope' as 'adam' })).rejects.toThrow(/^fathom\.fitInWorker: options\.optimizer must be one of 'adam', .*got "nope"$/);
    await expect(fitInWorker(model, x, y, { loss: 'mse', optimizer: 'Adam' as 'adam' })).rejects.toThrow(/^fathom\.fitInWorker: options\.optimizer must be one of .*got "Adam" \(did you mean 'adam'\?\)$/);
    expect(fitWorkerStats.started + fitWorkerStats.reused).toBe(started);
  });
});
