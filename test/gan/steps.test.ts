// The GAN's steps (lib/cli/gan.ts) on a tiny case, both backends: a 1-D Gaussian target
// N(3, 0.5²), G: noise [N, 2] → 16 → 1 and D: 1 → 16 → 1, MLPs. Checked: the
// discriminator's loss falls over its own steps, the non-saturating generator loss falls
// over G's steps with D fixed, each step leaves the other network's weights bit-identical
// (the detach and the freeze), and the same seed gives the same run.
import { afterAll, describe, expect, it } from 'vitest';
import * as fathom from '../../lib/index.js';
import { backend, manualSeed, nn, randn, setBackend, Tensor } from '../../lib/index.js';
import { discriminatorStep, ganOptimizer, ganStep, generatorStep, type GanPair } from '../../lib/cli/gan.js';
import type { Module } from '../../lib/layers/module.js';

const initial = backend().name;
afterAll(() => setBackend(initial as 'native' | 'ts'));

function tinyPair(seed: number): GanPair {
  manualSeed(seed);
  const generator = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 1));
  const discriminator = new nn.Sequential(new nn.Linear(1, 16), new nn.LeakyReLU(0.2), new nn.Linear(16, 1));
  return { generator, discriminator, latent: 2, arch: 'tiny' };
}

/** The bits of every parameter (Uint32 views copied: -0 and NaN payloads count). */
const bits = (m: Module): Uint32Array[] => m.parameters().map((p) => new Uint32Array((p.data as Float32Array).slice().buffer));
const real = (n: number, seed: number): Tensor => randn([n, 1], { seed, mean: 3, std: 0.5 });
const noise = (n: number, seed: number): Tensor => randn([n, 2], { seed });
/** BCE(D(x), 1) + BCE(D(fake), 0) and BCE(D(fake), 1), evaluated without a step. */
function losses(p: GanPair, x: Tensor, z: Tensor): { d: number; g: number } {
  return fathom.noGrad(() => {
    const fake = p.generator.forward(z);
    const bce = fathom.losses.binaryCrossEntropy;
    const outFake = p.discriminator.forward(fake);
    const d = bce(p.discriminator.forward(x), fathom.ones([x.shape[0], 1])).item() + bce(outFake, fathom.zeros([z.shape[0], 1])).item();
    return { d, g: bce(outFake, fathom.ones([z.shape[0], 1])).item() };
  });
}

for (const name of ['ts', 'native'] as const) {
  describe(`GAN steps (${name} backend)`, () => {
    it('the discriminator loss falls over its own steps (G fixed), and each D step leaves G bit-identical', () => {
      setBackend(name);
      const p = tinyPair(1);
      const optD = ganOptimizer(fathom, p.discriminator, 1e-2);
      const x = real(128, 11);
      const z = noise(128, 12);
      const g0 = bits(p.generator);
      const first = losses(p, x, z).d;
      const seen: number[] = [];
      for (let s = 0; s < 30; s++) {
        const fake = p.generator.forward(z);
        const r = discriminatorStep(fathom, p.discriminator, optD, x, fake.detach());
        seen.push(r.loss);
        expect(r.dReal).toBeGreaterThan(0);
        expect(r.dReal).toBeLessThan(1);
      }
      expect(seen[0]).toBeCloseTo(first, 5); // the reported loss is the one before the step
      const last = losses(p, x, z).d;
      expect(last).toBeLessThan(0.5 * first);
      // The detached fake carried no gradient into G, and D's optimizer holds none of G's weights.
      expect(bits(p.generator)).toEqual(g0);
      for (const t of p.generator.parameters()) expect(t.grad ?? null).toBeNull();
    });

    it('without detach the same D step would send gradients into G (what the detach prevents)', () => {
      setBackend(name);
      const p = tinyPair(1);
      const optD = ganOptimizer(fathom, p.discriminator, 1e-2);
      discriminatorStep(fathom, p.discriminator, optD, real(16, 11), p.generator.forward(noise(16, 12)));
      const norms = p.generator.parameters().map((t) => (t.grad ? Math.max(...Array.from(t.grad.data as Float32Array, Math.abs)) : 0));
      expect(Math.max(...norms)).toBeGreaterThan(0);
    });

    it('the non-saturating G loss falls over G steps with D fixed, and each G step leaves D bit-identical', () => {
      setBackend(name);
      const p = tinyPair(2);
      const optD = ganOptimizer(fathom, p.discriminator, 1e-2);
      const optG = ganOptimizer(fathom, p.generator, 1e-2);
      const x = real(128, 21);
      const z = noise(128, 22);
      // First teach D to tell the two apart, so that G has something to climb.
      for (let s = 0; s < 40; s++) discriminatorStep(fathom, p.discriminator, optD, x, p.generator.forward(z).detach());
      const d0 = bits(p.discriminator);
      const dGrads = p.discriminator.parameters().map((t) => (t.grad ? (t.grad.data as Float32Array).slice() : null));
      const first = losses(p, x, z).g;
      let prev = first;
      let falls = 0;
      for (let s = 0; s < 20; s++) {
        const before = generatorStep(fathom, p.discriminator, optG, p.generator.forward(z));
        expect(before).toBeCloseTo(prev, 5);
        const after = losses(p, x, z).g;
        if (after < before) falls++;
        prev = after;
      }
      expect(prev).toBeLessThan(0.7 * first);
      expect(falls).toBeGreaterThanOrEqual(18);
      // D: the same weights bit for bit, its gradients untouched (frozen), and trainable again afterwards.
      expect(bits(p.discriminator)).toEqual(d0);
      p.discriminator.parameters().forEach((t, i) => {
        expect(t.requiresGrad).toBe(true);
        expect(t.grad ? (t.grad.data as Float32Array).slice() : null).toEqual(dGrads[i]);
      });
    });

    it('alternating steps: the same seed gives bit-identical networks, another seed others', () => {
      setBackend(name);
      const run = (seed: number): Uint32Array[] => {
        const p = tinyPair(seed);
        const optD = ganOptimizer(fathom, p.discriminator, 1e-3);
        const optG = ganOptimizer(fathom, p.generator, 1e-3);
        for (let s = 0; s < 10; s++) ganStep(fathom, p, optD, optG, real(32, 100 + s), randn([32, 2]));
        return [...bits(p.generator), ...bits(p.discriminator)];
      };
      const a = run(5);
      expect(run(5)).toEqual(a);
      expect(run(6)).not.toEqual(a);
    });

    it('a G step restores requiresGrad even if D was partly frozen before', () => {
      setBackend(name);
      const p = tinyPair(3);
      const optG = ganOptimizer(fathom, p.generator, 1e-3);
      const first = p.discriminator.parameters()[0];
      first.requiresGrad = false;
      generatorStep(fathom, p.discriminator, optG, p.generator.forward(noise(8, 1)));
      expect(p.discriminator.parameters().map((t) => t.requiresGrad)).toEqual([false, true, true, true]);
    });
  });
}
