// model.predictAsync re-sends the whole model when weights are tied or untied between calls (lib/serve/
// snapshot.ts archKey): the worker's copy is re-tied by deserialize, so sending only the changed tensor of
// a just-untied pair would overwrite its old partner there too (a fresh user's finding: answers 5.5 off).
// Each answer is checked bit for bit against predict() on this thread at the call.
import { afterEach, describe, it } from 'vitest';
import { manualSeed, nn, randn, serve, type Tensor } from '../../lib/index.js';
import { sameRows } from '../helpers/rows.js';

/** Assigns a Linear's weight (tying, or untying, as `b.weight = a.weight` does in JavaScript). */
const setWeight = (l: nn.Linear, w: Tensor): void => {
  (l as { weight: Tensor }).weight = w;
};

afterEach(async () => {
  await serve.closeWorkers();
});

describe('predictAsync with weights tied and untied between calls', () => {
  it('untie, re-tie, write through the tie: every answer is predict() at its call', async () => {
    manualSeed(71);
    const a = new nn.Linear(4, 4);
    const b = new nn.Linear(4, 4);
    setWeight(b, a.weight); // tied
    const m = new nn.Sequential(a, new nn.Tanh(), b);
    const x = randn([3, 4]);
    sameRows(await m.predictAsync(x), m.predict(x), 'tied');
    setWeight(b, nn.parameter(randn([4, 4]))); // untied: b has its own weight now
    sameRows(await m.predictAsync(x), m.predict(x), 'untied');
    sameRows(await m.predictAsync(x), m.predict(x), 'untied, again');
    b.weight.data[0] += 0.5; // only b's own weight changes
    sameRows(await m.predictAsync(x), m.predict(x), 'untied, b written');
    setWeight(b, a.weight); // tied again
    sameRows(await m.predictAsync(x), m.predict(x), 'tied again');
    a.weight.data[1] -= 0.25; // a write through the tie
    sameRows(await m.predictAsync(x), m.predict(x), 'written through the tie');
  });
});
