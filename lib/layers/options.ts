/**
 * Checks of options objects shared by layers and the training loop: the
 * object itself (undefined → defaults; null, arrays and primitives refused),
 * unknown keys (a typo like `epoch: 5` must not be ignored silently), and the
 * type of each known key. Values are checked further where they are used.
 */
import { describe } from '../ops/record.js';

export type OptionType = 'boolean' | 'number' | 'string' | 'function' | 'object' | 'array';

/** `spec` maps each allowed key to its type (or a list of allowed types). */
export type OptionSpec = Record<string, OptionType | readonly OptionType[]>;

/** A short rendering of a value for error messages. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined) return String(v);
  return describe(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Levenshtein distance, for "did you mean" hints on misspelt option names. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name a mistyped `k` most likely meant (prefix, then edit distance), if any. */
export function closestName(k: string, known: readonly string[]): string | undefined {
  const lower = k.toLowerCase();
  return known.find((n) => n.toLowerCase().startsWith(lower) || lower.startsWith(n.toLowerCase())) ??
    known.map((n) => [n, distance(k, n)] as const).filter(([, d]) => d <= Math.max(2, k.length / 3)).sort((a, b) => a[1] - b[1])[0]?.[0];
}

/**
 * Validates an options object. Returns it (or {} for undefined).
 * @throws Error `fathom.<op>: options must be an object…` for null, arrays and primitives;
 *   `unknown option 'x'` (with the closest known name); `options.k must be a <type>, got …`.
 */
export function checkOptions<T extends object>(op: string, opts: T | undefined, spec: OptionSpec): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`fathom.${op}: options must be an object (or omitted), got ${show(opts)}`);
  }
  const known = Object.keys(spec);
  for (const [k, v] of Object.entries(opts)) {
    const want = spec[k];
    if (!want) {
      const near = closestName(k, known);
      const hint = near ? ` (did you mean '${near}'?)` : '';
      throw new Error(`fathom.${op}: unknown option '${k}'${hint}; known options: ${known.join(', ')}`);
    }
    if (v === undefined) continue;
    const types = typeof want === 'string' ? [want] : want;
    const t = typeOf(v);
    if (!types.includes(t as OptionType)) {
      const a = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
      throw new Error(`fathom.${op}: options.${k} must be ${types.map(a).join(' or ')}, got ${t === 'string' ? `the string ${show(v)}` : t === 'null' ? 'null' : `${t} ${show(v)}`}`);
    }
  }
  return opts;
}
