/**
 * Review 11 (adversarial tester): sizes from a config or a file are bounded
 * before any loop or allocation they drive; async readers yield; data helpers
 * refuse what they cannot use with named errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as F from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-review11-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A saved model file with its architecture metadata rewritten by `edit`. */
async function crafted(name: string, m: F.nn.Module, edit: (arch: string) => string): Promise<string> {
  const p = join(dir, `${name}.fathom`);
  await F.save(m, p);
  const buf = readFileSync(p);
  const hl = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hl).toString());
  header.__metadata__['fathom.architecture'] = edit(header.__metadata__['fathom.architecture']);
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.concat([Buffer.alloc(8), json, buf.subarray(8 + hl)]);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  const q = join(dir, `${name}-crafted.fathom`);
  writeFileSync(q, out);
  return q;
}

describe('recurrent layers bound numLayers and their parameter count', () => {
  it('refuses a huge numLayers at once, naming numLayers', () => {
    for (const L of [F.nn.LSTM, F.nn.GRU, F.nn.RNN]) {
      const t0 = Date.now();
      expect(() => new L(3, 4, { numLayers: 1e6 })).toThrow(/fathom\.(LSTM|GRU|RNN): numLayers must be at most 1024, got 1000000/);
      expect(() => new L(3, 4, { numLayers: 1e9 })).toThrow(/numLayers must be at most 1024, got 1000000000/);
      expect(Date.now() - t0).toBeLessThan(1000);
    }
  });
  it('refuses sizes whose parameters together exceed 2^31 - 1 values, before allocating', () => {
    // each weight fits one tensor (4·20000 × 20000 < 2^31) but 12 layers (2.7e9 values) do not
    expect(() => new F.nn.LSTM(20000, 5000, { numLayers: 12 })).toThrow(/fathom\.LSTM: inputSize 20000, hiddenSize 5000, numLayers 12 need \d+ parameter values; at most 2147483647/);
  });
  it('still builds an ordinary stacked layer', () => {
    const m = new F.nn.GRU(3, 4, { numLayers: 3, bidirectional: true });
    expect(m.parameters().length).toBe(3 * 2 * 4);
  });
  it('load() refuses a file whose config says numLayers 1e9, at once', async () => {
    const p = await crafted('lstm', new F.nn.LSTM(3, 4, { seed: 1 }), (a) => a.replace('"numLayers":1', '"numLayers":1000000000'));
    const t0 = Date.now();
    await expect(F.load(p)).rejects.toThrow(/fathom\.load: .*lstm-crafted\.fathom: cannot rebuild the architecture: fathom\.fromConfig: LSTM: numLayers must be at most 1024, got 1000000000/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('nn.parameterShapes-style checks refuse Sequentials nested too deep, without overflowing the stack', async () => {
    let c: Record<string, unknown> = { type: 'ReLU' };
    for (let i = 0; i < 1000; i++) c = { type: 'Sequential', layers: [c] };
    expect(() => F.nn.fromConfig(c as never)).toThrow(/fathom\.fromConfig: Sequentials nested more than 64 deep/);
    const p = await crafted('deep', new F.nn.Sequential(new F.nn.ReLU()), () => JSON.stringify(c));
    await expect(F.load(p)).rejects.toThrow(/deep-crafted\.fathom: cannot rebuild the architecture: fathom\.fromConfig: Sequentials nested more than 64 deep/);
  });
});
