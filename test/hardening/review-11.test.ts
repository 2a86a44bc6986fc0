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
import * as ST from '../../lib/io/safetensors.js';

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

describe('async safetensors reads convert F16/BF16/F64/I64 in chunks, yielding to the event loop', () => {
  const n = 2 * ST.DECODE_CHUNK + 5;
  const fail = (msg: string): never => {
    throw new Error(`safetensors: test: ${msg}`);
  };
  /** Runs `f` and counts the setImmediate turns the event loop took meanwhile. */
  async function turns<T>(f: () => Promise<T>): Promise<[T, number]> {
    let count = 0, done = false;
    const tick = (): void => {
      if (done) return;
      count++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const r = await f();
    done = true;
    return [r, count];
  }
  it('gives the same values as the sync decoder, with event-loop turns in between', async () => {
    const cases: [ST.SafetensorsFileDtype, number][] = [['F16', 2], ['BF16', 2], ['F64', 8], ['I64', 8]];
    for (const [dtype, size] of cases) {
      const bytes = new Uint8Array(n * size);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < n; i += 997) {
        if (dtype === 'F16') view.setUint16(2 * i, 0x3c00 + (i % 1000), true);
        else if (dtype === 'BF16') view.setUint16(2 * i, 0x3f80 + (i % 100), true);
        else if (dtype === 'F64') view.setFloat64(8 * i, i / 7, true);
        else view.setBigInt64(8 * i, BigInt(i % 2 ? -i : i), true);
      }
      const sync = ST.decodeItems(bytes, dtype, 'tensor "a"', fail);
      const [async, count] = await turns(() => ST.decodeItemsAsync(bytes, dtype, 'tensor "a"', fail));
      expect(count, dtype).toBeGreaterThanOrEqual(2);
      expect(async.constructor, dtype).toBe(sync.constructor);
      expect(Buffer.from(async.buffer).equals(Buffer.from(sync.buffer)), dtype).toBe(true);
    }
  });
  it('reports a bad value in a later chunk as the sync decoder does', async () => {
    const bytes = new Uint8Array(n * 8);
    new DataView(bytes.buffer).setBigInt64(8 * (n - 1), 1n << 40n, true);
    const msg = `holds ${1n << 40n} at index ${n - 1}, outside int32`;
    expect(() => ST.decodeItems(bytes, 'I64', 'tensor "a"', fail)).toThrow(msg);
    await expect(ST.decodeItemsAsync(bytes, 'I64', 'tensor "a"', fail)).rejects.toThrow(msg);
  });
  it('readStateDict reads an F16 file of several chunks correctly', async () => {
    const m = ST.DECODE_CHUNK + 3;
    const json = Buffer.from(JSON.stringify({ a: { dtype: 'F16', shape: [m], data_offsets: [0, 2 * m] } }));
    const data = Buffer.alloc(2 * m);
    data.writeUInt16LE(0x3c00, 0); // 1
    data.writeUInt16LE(0xc000, 2 * (m - 1)); // -2
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    const p = join(dir, 'f16.safetensors');
    writeFileSync(p, Buffer.concat([head, json, data]));
    const d = await F.readStateDict(p);
    expect(d.a!.shape).toEqual([m]);
    expect([d.a!.data[0], d.a!.data[1], d.a!.data[m - 1]]).toEqual([1, 0, -2]);
  });
});

describe('data.Vocabulary and CharVocabulary take what they document, refuse the rest by name', () => {
  const v = new F.data.Vocabulary().fit([['hello', 'world', 'hello']]);
  it('decode takes an int32 Tensor (any shape), an array or an integer typed array', () => {
    const ids = v.encode(['hello', 'world']);
    expect(v.decode(F.tensor(ids))).toEqual(['hello', 'world']);
    expect(v.decode(F.reshape(F.tensor(ids), [2, 1]))).toEqual(['hello', 'world']);
    expect(v.decode([...ids])).toEqual(['hello', 'world']);
    expect(v.decode(ids)).toEqual(['hello', 'world']);
    expect(v.decode(Uint8Array.from(ids))).toEqual(['hello', 'world']);
  });
  it('decode refuses a float32 Tensor, null and array-likes', () => {
    expect(() => v.decode(F.tensor([2, 3]))).toThrow(/fathom\.data\.Vocabulary\.decode: indices must be an int32 Tensor, an array or an integer typed array, got a float32 Tensor \[2\]/);
    expect(() => v.decode(null as never)).toThrow(/fathom\.data\.Vocabulary\.decode: indices must be .* got null/);
    expect(() => v.decode({ length: 2, 0: 2, 1: 3 } as never)).toThrow(/fathom\.data\.Vocabulary\.decode: indices must be/);
    expect(() => v.decode(new Float32Array([2]) as never)).toThrow(/fathom\.data\.Vocabulary\.decode: indices must be/);
  });
  it('fit, fromCounts, encode and indexOf give named Errors, not TypeErrors', () => {
    const named = (f: () => unknown, re: RegExp): void => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).constructor).toBe(Error);
      expect((err as Error).message).toMatch(re);
    };
    named(() => v.fit(null as never), /fathom\.data\.Vocabulary\.fit: documents must be an iterable of token arrays .* got null/);
    named(() => v.fit(5 as never), /fathom\.data\.Vocabulary\.fit: documents must be .* got 5/);
    named(() => F.data.Vocabulary.fromCounts({ a: 1 } as never), /fathom\.data\.Vocabulary\.fromCounts: counts must be an iterable of \[word, count\] pairs/);
    named(() => F.data.Vocabulary.fromCounts([5] as never), /fathom\.data\.Vocabulary\.fromCounts: expected \[word, count >= 0\] pairs, got 5/);
    named(() => F.data.Vocabulary.fromCounts([['a', '3']] as never), /fromCounts: expected \[word, count >= 0\] pairs, got \["a", "3"\]/);
    named(() => v.encode(['hello', 5] as never), /fathom\.data\.Vocabulary\.encode: tokens\[1\] must be a string, got 5/);
    named(() => v.indexOf(null as never), /fathom\.data\.Vocabulary\.indexOf: token must be a string, got null/);
    named(() => new F.data.CharVocabulary(null as never), /fathom\.data\.CharVocabulary: texts must be an iterable of strings, got null/);
    expect(F.data.Vocabulary.fromCounts(Object.entries({ a: 1, b: 2 })).tokens).toEqual(['', '[UNK]', 'b', 'a']);
  });
  it('CharVocabulary.decode takes an int32 Tensor and refuses a float32 one', () => {
    const c = new F.data.CharVocabulary(['ab']);
    expect(c.decode(F.tensor(c.encode('ba')))).toBe('ba');
    expect(() => c.decode(F.tensor([3]))).toThrow(/fathom\.data\.CharVocabulary\.decode: indices must be an int32 Tensor.* got a float32 Tensor \[1\]/);
    expect(() => c.decode(undefined as never)).toThrow(/CharVocabulary\.decode: indices must be .* got undefined/);
  });
});

describe('data.padSequences checks sizes before allocating and refuses array-likes', () => {
  it('refuses N·T over 2^31 - 1 with a named error, at once', () => {
    const t0 = Date.now();
    expect(() => F.data.padSequences([[1, 2]], { maxLength: 2 ** 40 })).toThrow(/fathom\.data\.padSequences: the padded tensor \[1, 1099511627776\] would hold 1099511627776 values; at most 2147483647/);
    expect(() => F.data.padSequences([[1], [1], [1]], { maxLength: 2 ** 30, value: 1 })).toThrow(/the padded tensor \[3, 1073741824\] would hold 3221225472 values/);
    expect(Date.now() - t0).toBeLessThan(500);
  });
  it('refuses array-likes with bogus lengths and non-arrays', () => {
    for (const s of [{ length: -5 }, { length: 1.5, 0: 7, 1: 8 }, { length: NaN }, 'abc', 3, new DataView(new ArrayBuffer(4))]) {
      expect(() => F.data.padSequences([s as never], { maxLength: 3 })).toThrow(/fathom\.data\.padSequences: sequences\[0\] must be an array of integers, got .* \(expected an Array or a typed array such as Int32Array, of int32 values\)/);
    }
  });
  it('still pads arrays and typed arrays', () => {
    const r = F.data.padSequences([[1, 2, 3], Int32Array.from([4]), new Float64Array([5, 6])], { maxLength: 2 });
    expect(r.x.shape).toEqual([3, 2]);
    expect(Array.from(r.x.data)).toEqual([1, 2, 4, 0, 5, 6]);
    expect(Array.from(r.lengths)).toEqual([2, 1, 2]);
    expect(() => F.data.padSequences([new Float64Array([1.5])])).toThrow(/sequences\[0\]\[0\] must be an int32 integer, got 1\.5/);
  });
});

describe('the TS batchNorm (the reference twin) centres before scaling', () => {
  /** Exact (double) training-mode batch norm of one channel, biased variance, eps 1e-5. */
  function exact(v: number[], w = 1, b = 0): number[] {
    const m = v.reduce((a, x) => a + x, 0) / v.length;
    const s2 = v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length;
    return v.map((x) => ((x - m) / Math.sqrt(s2 + 1e-5)) * w + b);
  }
  it('keeps full float32 precision when the mean is large relative to the spread', () => {
    const prev = F.backend().name as 'native' | 'ts';
    F.setBackend('ts');
    try {
      for (const v of [[10000.5, 10001, 10001.5, 10002], [-65536.25, -65536.75, -65535.5, -65536], [1e6 + 1, 1e6 + 3, 1e6 + 2]]) {
        const y = F.batchNorm(F.reshape(F.tensor(v), [v.length, 1]), null, null, null, null, { training: true });
        const want = exact(v);
        Array.from(y.data).forEach((g, i) => expect(Math.abs(g - want[i]!), `${v} [${i}]: ${g} vs ${want[i]}`).toBeLessThan(2e-6));
        // affine: the weight and bias apply after centring
        const wb = F.batchNorm(F.reshape(F.tensor(v), [v.length, 1]), null, null, F.tensor([3]), F.tensor([-2]), { training: true });
        const want2 = exact(v, 3, -2);
        Array.from(wb.data).forEach((g, i) => expect(Math.abs(g - want2[i]!)).toBeLessThan(1e-5));
      }
    } finally {
      F.setBackend(prev);
    }
  });
});

describe('crafted safetensors headers are refused with errors naming the op, the file and the tensor', () => {
  function file(name: string, json: string, data: Buffer = Buffer.alloc(0)): string {
    const j = Buffer.from(json);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(j.length));
    const p = join(dir, `${name}.safetensors`);
    writeFileSync(p, Buffer.concat([head, j, data]));
    return p;
  }
  const f32 = (...v: number[]): Buffer => Buffer.from(new Float32Array(v).buffer);
  it('refuses a deeply nested header before parsing it', async () => {
    const p = file('deep', '{"__metadata__":' + '['.repeat(100000) + ']'.repeat(100000) + '}');
    const re = /fathom\.readStateDict: safetensors: .*deep\.safetensors: expected a header nested at most 8 deep \(a safetensors header needs 3\)/;
    await expect(F.readStateDict(p)).rejects.toThrow(re);
    await expect(F.load(p)).rejects.toThrow(/fathom\.load: safetensors: .*deep\.safetensors: expected a header nested at most 8 deep/);
    expect(() => ST.decodeSafetensors(readFileSync(p), 'buf')).toThrow(/safetensors: buf: expected a header nested at most 8 deep/);
    // brackets inside strings are not nesting
    const q = file('brackets', JSON.stringify({ __metadata__: { note: '[[[[[[[[[[{{{{{{{{{{' }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }), f32(5));
    expect(Array.from((await F.readStateDict(q)).a!.data)).toEqual([5]);
  });
  it('refuses a tensor of more than 8 dimensions, naming the op, file and tensor', async () => {
    const p = file('rank39', JSON.stringify({ w: { dtype: 'F32', shape: [...Array(38).fill(1), 2], data_offsets: [0, 8] } }), f32(1, 2));
    await expect(F.readStateDict(p)).rejects.toThrow(/fathom\.readStateDict: safetensors: .*rank39\.safetensors: expected tensor "w" to have at most 8 dimensions \(fathom's limit\), got 39/);
  });
  it('refuses a tensor name declared twice, and a key repeated inside an entry', async () => {
    const p = file('dup', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', f32(1, 2));
    await expect(F.readStateDict(p)).rejects.toThrow(/fathom\.readStateDict: safetensors: .*dup\.safetensors: expected each tensor name once in the header, got "a" twice/);
    const q = file('dup-escaped', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\\u0061":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', f32(1, 2));
    await expect(F.readStateDict(q)).rejects.toThrow(/got "a" twice/);
    const r = file('dup-field', '{"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}}', f32(1, 2));
    await expect(F.readStateDict(r)).rejects.toThrow(/dup-field\.safetensors: expected each key once in an object of the header, got "dtype" twice/);
    // the same key in different objects is fine
    const ok = file('same-keys', JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), f32(1, 2));
    expect(Object.keys(await F.readStateDict(ok))).toEqual(['a', 'b']);
  });
});

describe('shape ops name themselves, not the reshape they call', () => {
  it('unsqueeze and stack on a rank-8 tensor', () => {
    const x = F.zeros([1, 1, 1, 1, 1, 1, 1, 2]);
    expect(() => F.unsqueeze(x, 0)).toThrow(/^fathom\.unsqueeze: a tensor of rank 8 \[1, 1, 1, 1, 1, 1, 1, 2\] cannot gain an axis: at most 8 dimensions are supported$/);
    expect(() => F.stack([x, x], 0)).toThrow(/^fathom\.stack: a tensor of rank 8 .* cannot gain an axis/);
    expect(F.unsqueeze(F.zeros([1, 1, 1, 1, 1, 1, 2]), 0).shape).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
  });
});

describe('review: lengths passed as the state', () => {
  it('points to forwardWithState(x, state, { lengths })', () => {
    const lstm = new F.nn.LSTM(3, 4, { batchFirst: true });
    expect(() => lstm.forward(F.randn([2, 5, 3]), { lengths: new Int32Array([5, 3]) } as never)).toThrow(
      'fathom.LSTM: lengths go in the third argument of forwardWithState(x, state, { lengths }), not in the state (known: h, c)');
  });
});
