/**
 * `fathom sample --model PATH`: new names from a character-level language
 * model saved by `fathom train --dataset names --save PATH`. The vocabulary
 * travels in the file's metadata (sequence.ts's VOCABULARY_KEY), so sampling
 * needs neither the data package nor the training run.
 *
 * All n names are drawn together, one step at a time: row i starts as BOS,
 * the model reads the rows so far ([n, t] → logits [n, t, V]), and the next
 * character of each row is drawn from softmax(logits[:, t − 1] / temperature)
 * over the characters and EOS (PAD and BOS are never drawn), until every row
 * has drawn EOS or reaches T − 1 characters (T = the training rows' steps).
 * The draws come from seeded generators (mulberry32, one stream per name), so
 * a seed, model and temperature give the same names on every run, whatever
 * --n (the first names of --n 20 are those of --n 3), and on both backends
 * unless a draw falls within float rounding of a boundary.
 */
import type { SampleOptions } from './args.js';
import { VOCABULARY_KEY, type CharVocabularyMeta } from './sequence.js';
import { mulberry32 } from '../data/random.js';

/**
 * mulberry32: uniform draws in [0, 1) from `seed` (its low 32 bits mixed with
 * the high ones) and a stream number (one per sampled name, so that the first
 * names of --n 20 are those of --n 3).
 */
export function uniforms(seed: number, stream = 0): () => number {
  return mulberry32(((seed >>> 0) ^ Math.floor(seed / 4294967296) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
}

/** Reads the vocabulary a names model carries; a clear error for any other file. */
async function vocabularyOf(path: string): Promise<CharVocabularyMeta> {
  const { loadSafetensors } = await import('../io/safetensors.js');
  let meta: Record<string, string> = {};
  await loadSafetensors(path, {
    check: (h) => {
      meta = h.metadata;
      throw new Stop();
    },
  }).catch((e: unknown) => {
    if (!(e instanceof Stop)) throw new Error(`--model ${path}: ${(e as Error).message}`, { cause: e });
  });
  const text = meta[VOCABULARY_KEY];
  if (text === undefined) {
    throw new Error(`--model ${path} holds no character vocabulary (metadata '${VOCABULARY_KEY}'); ` +
      'sample from a model saved by fathom train --dataset names --save PATH');
  }
  const v = JSON.parse(text) as CharVocabularyMeta;
  if (typeof v?.chars !== 'string' || !Number.isSafeInteger(v.maxLength) || v.maxLength < 2) {
    throw new Error(`--model ${path}: the vocabulary metadata is malformed: ${text.slice(0, 200)}`);
  }
  return v;
}

class Stop extends Error {}

/**
 * n names sampled from the model at `o.model` (see the top of this file).
 * @throws for a file that is not a names model, or a model whose outputs do not match its vocabulary.
 */
export async function sample(o: SampleOptions): Promise<string[]> {
  const vocab = await vocabularyOf(o.model);
  await import('./seqmodels.js'); // registers RecurrentNet for load()
  const f = await import('../index.js');
  if (o.backend !== undefined) f.setBackend(o.backend);
  const model = await f.load(o.model);
  model.eval();
  const V = vocab.chars.length + 3;
  const maxChars = vocab.maxLength - 1;
  const n = o.n;
  const draws = Array.from({ length: n }, (_, i) => uniforms(o.seed, i));
  const rows: number[][] = Array.from({ length: n }, () => [1]); // BOS
  const done = new Uint8Array(n);
  for (let t = 0; t < maxChars + 1 && done.some((d) => d === 0); t++) {
    const steps = t + 1;
    const x = new f.Tensor(Int32Array.from(rows.flat()), [n, steps]);
    const logits = f.noGrad(() => model.forward(x));
    if (logits.rank !== 3 || logits.shape[2] !== V) {
      throw new Error(`--model ${o.model} gives logits [${logits.shape.join(', ')}], expected [n, t, ${V}] for its vocabulary of ${V} entries`);
    }
    const l = logits.data as Float32Array;
    const p = new Float64Array(V);
    for (let i = 0; i < n; i++) {
      if (done[i]) {
        rows[i].push(0);
        continue;
      }
      const at = (i * steps + t) * V;
      // Softmax over EOS (2) and the characters (3…); PAD and BOS are never targets.
      let max = -Infinity;
      for (let k = 2; k < V; k++) max = Math.max(max, l[at + k] / o.temperature);
      let z = 0;
      for (let k = 2; k < V; k++) z += (p[k] = Math.exp(l[at + k] / o.temperature - max));
      // At the longest length only EOS remains.
      let k = 2;
      if (t < maxChars) {
        let u = draws[i]() * z;
        for (k = 2; k < V - 1; k++) {
          u -= p[k];
          if (u < 0) break;
        }
      }
      rows[i].push(k);
      if (k === 2) done[i] = 1;
    }
  }
  return rows.map((r) => {
    let s = '';
    for (let j = 1; j < r.length && r[j] >= 3; j++) s += vocab.chars[r[j] - 3];
    return s;
  });
}
