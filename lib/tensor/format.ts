/**
 * The printed form of a tensor, like PyTorch's repr:
 *
 *   tensor([[1, 2],
 *           [3, 4]], shape=[2, 2], dtype=float32)
 *
 * Integral float32 values print without decimals; others with 4 decimals, or
 * in scientific notation when the magnitudes span a wide range. Tensors with
 * more than 1000 values show the first and last 3 entries of each dimension
 * around `...` (PyTorch's threshold and edgeitems).
 */
import type { Tensor } from './tensor.js';
import { fmt, sizeOf } from './shape.js';

const THRESHOLD = 1000;
const EDGE = 3;

/** Indices shown along a dimension of length n; null stands for the elided middle. */
function shown(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [0, 1, 2, null, n - 3, n - 2, n - 1];
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return null;
}

/** A formatter for the values that will be printed (chosen from those values only). */
function formatter(values: number[], int: boolean): (v: number) => string {
  if (int) return (v) => String(v);
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.every((v) => Number.isInteger(v) && Math.abs(v) < 1e8)) return (v) => special(v) ?? String(v);
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const hi = abs.length ? Math.max(...abs) : 0;
  const lo = abs.length ? Math.min(...abs) : 0;
  const sci = hi >= 1e8 || (lo > 0 && lo < 1e-4) || (lo > 0 && hi / lo > 1000);
  return (v) => special(v) ?? (sci ? v.toExponential(4) : v.toFixed(4));
}

export function formatTensor(t: Tensor): string {
  const tail = `shape=${fmt(t.shape)}, dtype=${t.dtype}${t.requiresGrad ? ', requiresGrad=true' : ''}`;
  if (t.data.length !== t.size) return `tensor(<storage detached>, ${tail})`;
  if (t.size === 0) return `tensor([], ${tail})`;
  const shape = t.shape;
  const rank = shape.length;
  const summarize = t.size > THRESHOLD;
  const data = t.data;
  // Gather the printed values first (formatting and column width depend on them).
  const picked: number[] = [];
  const gather = (dim: number, offset: number): void => {
    if (dim === rank) {
      picked.push(data[offset]);
      return;
    }
    const stride = sizeOf(shape.slice(dim + 1));
    for (const i of shown(shape[dim], summarize)) if (i !== null) gather(dim + 1, offset + i * stride);
  };
  gather(0, 0);
  const f = formatter(picked, t.dtype === 'int32');
  const width = Math.max(...picked.map((v) => f(v).length));
  const cell = (v: number): string => f(v).padStart(width);
  const prefix = 'tensor(';
  const build = (dim: number, offset: number): string => {
    if (dim === rank) return cell(data[offset]);
    const stride = sizeOf(shape.slice(dim + 1));
    const parts = shown(shape[dim], summarize).map((i) => (i === null ? '...' : build(dim + 1, offset + i * stride)));
    if (dim === rank - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(rank - dim - 1) + ' '.repeat(prefix.length + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  return `${prefix}${build(0, 0)}, ${tail})`;
}
