/**
 * model.summary(): a text table of a model's layers (Keras's model.summary()),
 * with parameter totals. Counts are of parameters() (each shared tensor
 * once); buffers such as BatchNorm's running statistics are not parameters
 * (PyTorch's count; Keras would list them as non-trainable).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { describe } from '../../ops/record.js';
import type { Module } from '../module.js';
import type { GraphView, Ref } from './model.js';
import { probe, zeroBatch } from './symbolic.js';

const count = (ps: Tensor[]): number => ps.reduce((s, p) => s + p.size, 0);
const shapeN = (s: readonly number[]): string => `[N${s.map((d) => `, ${d}`).join('')}]`;
/** 1234567 → 1,234,567 (Keras's totals). */
const num = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The widest the last column counts for the rule (a node of thousands of inputs must not widen every row). */
const MAX_LAST_WIDTH = 100;

/**
 * Rows as aligned columns under a header, `=` rules around the body, then the
 * totals. The last column is not padded (each row's text ends where it ends),
 * so one very long cell costs its own length only.
 */
function table(title: string, header: string[], rows: string[][], right: Set<number>, params: Tensor[], extra: string[] = []): string {
  const last = header.length - 1;
  const widths = header.map((h, i) => {
    let w = h.length;
    for (const r of rows) if (r[i].length > w) w = r[i].length; // a loop: Math.max(...rows) overflows the stack for a huge model
    return i === last && !right.has(i) ? Math.min(w, MAX_LAST_WIDTH) : w;
  });
  const line = (r: string[]): string => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : i === last ? c : c.padEnd(widths[i]))).join('   ').trimEnd();
  const rule = '='.repeat(widths.reduce((s, w) => s + w, 0) + 3 * (widths.length - 1));
  const trainable = count(params.filter((p) => p.requiresGrad));
  const total = count(params);
  return [
    title, line(header), rule, ...rows.map(line), rule,
    `Total params: ${num(total)}`, `Trainable params: ${num(trainable)}`, `Non-trainable params: ${num(total - trainable)}`, ...extra,
  ].join('\n');
}

/** The most inputs a row's "Connected to" lists (then `… (k in all)`). */
const MAX_SHOWN = 8;

/** @internal nn.Model's summary: one row per input and per layer call. */
export function graphSummary(model: Module & { name: string }, g: GraphView): string {
  const calls = new Map<string, number>();
  const outs = new Map<string, number>();
  for (const n of g.nodes) {
    calls.set(n.layer, (calls.get(n.layer) ?? 0) + 1);
    outs.set(n.layer, Math.max(outs.get(n.layer) ?? 1, n.shapes.length));
  }
  // `name` alone when the layer is called once with one output; Keras's `name[call][index]` otherwise.
  const show = ([from, call, index]: Ref): string => ((calls.get(from) ?? 1) === 1 && (outs.get(from) ?? 1) === 1 ? from : `${from}[${call}][${index}]`);
  const rows: string[][] = g.inputs.map((i) => [`${i.name} (Input${i.dtype === 'int32' ? ', int32' : ''})`, shapeN(i.shape), '0', '']);
  for (const n of g.nodes) {
    const type = n.module.constructor.name || 'Module';
    const from = n.inputs.length <= MAX_SHOWN ? n.inputs.map(show).join(', ') : `${n.inputs.slice(0, MAX_SHOWN).map(show).join(', ')}, … (${n.inputs.length} in all)`;
    rows.push([`${n.layer} (${type})`, n.shapes.map(shapeN).join(', '), n.call === 0 ? num(count(n.module.parameters())) : '(shared)', from]);
  }
  const outputs = (model as unknown as { outputNames: readonly string[] }).outputNames;
  return table(`Model: "${model.name}"`, ['Layer (type)', 'Output shape', 'Param #', 'Connected to'], rows, new Set([2]), model.parameters(), [`Outputs: ${outputs.join(', ')}`]);
}

/** Whether m is an nn.Sequential (by its class chain: importing Sequential here would be an import cycle). */
function isSequential(m: Module): m is Module & { layers: Module[] } {
  for (let p = Object.getPrototypeOf(m); p && p.constructor.name !== 'Module'; p = Object.getPrototypeOf(p)) {
    if (p.constructor.name === 'Sequential') return Array.isArray((m as { layers?: unknown }).layers);
  }
  return false;
}

function checkShape(shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || shape.length > 7 || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new Error(`fathom.Module.summary: inputShape must be one sample's shape (without N), an array of at most 7 positive integers, got ${Array.isArray(shape) ? `[${shape.map(String).join(', ')}]` : describe(shape)}`);
  }
  return shape;
}

/**
 * @internal Module.summary for any module other than nn.Model: a row per
 * direct child (its name, type and parameter count) and the totals. With
 * `inputShape` (one sample's shape, without N) the output shapes are shown:
 * of each layer for a Sequential, of the whole module otherwise (by running
 * it once on a zero batch of 2 in eval mode, without the tape).
 */
export function moduleSummary(m: Module, inputShape?: readonly number[], dtype: 'float32' | 'int32' = 'float32'): string {
  const type = m.constructor.name || 'Module';
  const kids = m.modules();
  const shape = inputShape === undefined ? undefined : checkShape(inputShape);
  if (shape && isSequential(m)) {
    const rows: string[][] = [];
    probe(m, () => {
      let y = zeroBatch(shape, dtype);
      m.layers.forEach((l, i) => {
        try {
          y = l.forward(y);
        } catch (e) {
          throw new Error(`fathom.Module.summary: layer ${i} (${l.constructor.name}) refuses ${shapeN(y.shape.slice(1))}: ${(e as Error).message}`, { cause: e });
        }
        rows.push([`${i} (${l.constructor.name})`, shapeN(y.shape.slice(1)), num(count(l.parameters()))]);
      });
    });
    return table(type, ['Layer (type)', 'Output shape', 'Param #'], [['input (Input)', shapeN(shape), '0'], ...rows], new Set([2]), m.parameters());
  }
  const rows = kids.map(([n, c]) => [`${n} (${c.constructor.name || 'Module'})`, num(count(c.parameters()))]);
  const extra: string[] = [];
  if (shape) {
    const y = probe(m, () => m.forward(zeroBatch(shape, dtype)));
    extra.push(`Output shape: ${shapeN(y.shape.slice(1))} for input ${shapeN(shape)}`);
  }
  return table(type, ['Layer (type)', 'Param #'], rows, new Set([1]), m.parameters(), extra);
}
