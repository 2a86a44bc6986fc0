/**
 * fathom's schedulers against PyTorch's own: fixtures/lr-scheduler-torch.json holds the lr (and
 * OneCycleLR's momentum) sequences that torch.optim.lr_scheduler produced for each case
 * (written by fixtures/lr-scheduler-torch.py, PyTorch 1.13, float64), and every value here must
 * agree step for step: bit for bit where the schedule needs only + − × ÷, within 2e-15 relative
 * (a few ulps) where it calls cos or pow, whose last bit V8 and C's libm may round differently.
 * The closed forms of the docs differ from PyTorch's recurrences by more than that (up to 4.6e-15
 * here for CosineAnnealingLR, last-bit differences for LinearLR), so this checks that the
 * recurrences are PyTorch's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { optim, tensor } from '../../lib/index.js';

const S = optim.lrScheduler;
type Spec = { type: string; options?: Record<string, unknown> };
type Case = Spec & {
  steps: number; adam?: boolean; metrics?: number[]; epochs?: number[]; milestones?: number[]; schedulers?: Spec[];
  lrs: number[][]; momentum?: number[][]; throwsAfter?: boolean;
};
const fixture = JSON.parse(readFileSync(new URL('./fixtures/lr-scheduler-torch.json', import.meta.url), 'utf8')) as { torch: string; cases: Record<string, Case> };

/** The fixture's functions, by name (defined identically in the generator). */
const LAMBDAS: Record<string, (e: number) => number> = {
  exp95: (e) => 0.95 ** e,
  warmup4: (e) => Math.min(1, (e + 1) / 4),
};

function optimizer(adam: boolean) {
  const groups = [{ params: [tensor([0]).requireGrad()] }, { params: [tensor([0]).requireGrad()], lr: 0.05 }];
  return adam ? new optim.Adam(groups, { lr: 0.1, betas: [0.9, 0.98] }) : new optim.SGD(groups, { lr: 0.1, momentum: 0.9 });
}

function build(opt: optim.Optimizer, spec: Spec) {
  const options: Record<string, unknown> = { ...spec.options };
  if (options.lrLambda !== undefined) {
    options.lrLambda = Array.isArray(options.lrLambda) ? options.lrLambda.map((n: string) => LAMBDAS[n]) : LAMBDAS[options.lrLambda as string];
  }
  const Ctor = (S as unknown as Record<string, new (o: optim.Optimizer, p: unknown) => { step(x?: number): void }>)[spec.type];
  return new Ctor(opt, options);
}

const momentumOf = (opt: optim.Optimizer) => opt.paramGroups.map((g) => ('betas' in g ? (g.betas as number[])[0] : (g.momentum as number)));

let worst = 0;
function agree(got: number[], want: number[], what: string, tol: number): void {
  got.forEach((v, i) => {
    const err = Math.abs(v - want[i]) / Math.max(Math.abs(want[i]), 1e-300);
    worst = Math.max(worst, err);
    if (!(err <= tol)) throw new Error(`${what}, group ${i}: got ${v}, PyTorch ${want[i]} (relative error ${err})`);
  });
}

describe(`step for step against PyTorch ${fixture.torch}`, () => {
  it.each(Object.entries(fixture.cases))('%s', (name, c) => {
    // Bit for bit where only + − × ÷ are involved; where Math.cos or Math.pow is, V8's and C's may differ in the last bit.
    const tol = /Cosine|cosine|OneCycleLR(?! linear)|Lambda/.test(name) ? 2e-15 : 0;
    const opt = optimizer(c.adam ?? false);
    let sched: { step(x?: number): void; getLastLr(): number[] };
    if (c.type === 'SequentialLR') {
      sched = new S.SequentialLR(opt, { schedulers: c.schedulers!.map((s) => build(opt, s) as optim.lrScheduler.LRScheduler), milestones: c.milestones! });
    } else if (c.type === 'ChainedScheduler') {
      sched = new S.ChainedScheduler(c.schedulers!.map((s) => build(opt, s) as optim.lrScheduler.LRScheduler));
    } else {
      sched = build(opt, c) as typeof sched;
    }
    agree(opt.paramGroups.map((g) => g.lr), c.lrs[0], 'after construction', tol);
    if (c.momentum) agree(momentumOf(opt), c.momentum[0], 'momentum after construction', tol);
    for (let i = 0; i < c.steps; i++) {
      opt.step();
      sched.step(c.metrics?.[i] ?? c.epochs?.[i]);
      agree(opt.paramGroups.map((g) => g.lr), c.lrs[i + 1], `step ${i + 1}`, tol);
      agree(sched.getLastLr(), c.lrs[i + 1], `getLastLr() at step ${i + 1}`, tol);
      if (c.momentum) agree(momentumOf(opt), c.momentum[i + 1], `momentum at step ${i + 1}`, tol);
    }
    if (c.throwsAfter !== undefined) {
      if (c.throwsAfter) expect(() => sched.step()).toThrow('fathom.OneCycleLR.step: tried to step');
      else sched.step();
    }
  });

  it('covers every scheduler', () => {
    const types = new Set(Object.values(fixture.cases).flatMap((c) => [c.type, ...(c.schedulers ?? []).map((s) => s.type)]));
    expect([...types].sort()).toEqual(['ChainedScheduler', 'ConstantLR', 'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'ExponentialLR', 'LambdaLR',
      'LinearLR', 'MultiStepLR', 'OneCycleLR', 'ReduceLROnPlateau', 'SequentialLR', 'StepLR']);
    expect(worst).toBeLessThanOrEqual(2e-15);
  });
});
