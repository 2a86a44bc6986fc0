// Deterministic random choices for the fuzzer: call i of seed s always draws
// the same numbers (mulberry32 over a mix of s and i), so any call can be
// replayed alone with FATHOM_FUZZ_SEED=s FATHOM_FUZZ_ONLY=i.

function mix(a, b) {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
}

export function rngFor(seed, index) {
  let a = mix(seed >>> 0, index >>> 0);
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const R = {
    next,
    /** An integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    /** A float in [lo, hi). */
    num: (lo, hi) => lo + (hi - lo) * next(),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    /** A Float32Array of n values in [lo, hi). */
    f32: (n, lo = -3, hi = 3) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
      return a;
    },
    i32: (n, lo, hi) => {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = lo + Math.floor(next() * (hi - lo + 1));
      return a;
    },
  };
  return R;
}

/** A short text of a value for a report line (never the whole array). */
export function show(v, depth = 0) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 24 ? v.slice(0, 24) + '…' : v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return v.name ? `fn ${v.name}` : 'fn';
  if (ArrayBuffer.isView(v)) {
    const detached = v.byteLength === 0 && v.buffer.byteLength === 0 && isDetached(v.buffer);
    const off = v.byteOffset ? `@${v.byteOffset}` : '';
    return `${v.constructor.name}(${v.length}${off}${detached ? ', detached' : ''})`;
  }
  if (v && typeof v === 'object' && 'shape' in v && 'dtype' in v && 'data' in v) {
    return `Tensor[${v.shape.join(',')}]${v.dtype === 'int32' ? 'i32' : ''}`;
  }
  if (v instanceof URL) return `URL(${v.href})`;
  if (Array.isArray(v)) {
    if (depth > 1) return `[…${v.length}]`;
    const inner = v.slice(0, 6).map((e) => show(e, depth + 1)).join(',');
    return `[${inner}${v.length > 6 ? `,…(${v.length})` : ''}]`;
  }
  if (typeof v === 'object') {
    if (depth > 1) return '{…}';
    const name = v.constructor && v.constructor !== Object ? v.constructor.name : '';
    const keys = Object.keys(v).slice(0, 8);
    return `${name}{${keys.map((k) => `${k}:${show(v[k], depth + 1)}`).join(',')}}`;
  }
  return typeof v;
}

function isDetached(buf) {
  if (buf.byteLength !== 0) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

/** A Float32Array whose buffer has been transferred away (length 0, detached). */
export function detached(n = 4) {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}
