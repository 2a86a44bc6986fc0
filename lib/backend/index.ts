/**
 * Backend selection. FATHOM_BACKEND=native|ts forces one; by default the
 * native addon is used and, when it cannot load, fathom falls back to the
 * TypeScript backend with one warning that says why and how to fix it.
 * Forcing native when it cannot load throws.
 *
 * The environment is validated on first use (never silently ignored):
 * FATHOM_ISA naming an ISA this CPU or binary cannot run throws (unless
 * FATHOM_BACKEND=ts, which runs no native kernel), and FATHOM_NUM_THREADS must
 * be a positive integer.
 */
import type { Backend } from './backend.js';
import { loadBinding, type NativeBinding, type NativeInfo } from './native/binding.js';
import { nativeBackend } from './native/index.js';
import { tsBackend } from './ts/index.js';
import { uncheckedOf } from './checked.js';

export type BackendName = 'native' | 'ts';

let loaded: { binding: NativeBinding | null; error: string; isaError: string } | undefined;
let current: Backend | undefined;
let warned = false;

/** The largest FATHOM_NUM_THREADS accepted (the pool's own cap). */
export const MAX_THREADS = 256;

/**
 * Validates FATHOM_NUM_THREADS before the native pool reads it: unset or empty
 * means the core count; anything else must be an integer in [1, 256].
 */
export function checkNumThreadsEnv(): void {
  const raw = process.env.FATHOM_NUM_THREADS;
  if (raw === undefined || raw.trim() === '') return;
  const s = raw.trim();
  const n = /^[0-9]+$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= MAX_THREADS)) {
    throw new Error(
      `fathom: FATHOM_NUM_THREADS must be an integer in [1, ${MAX_THREADS}] (or unset for the core count), got '${raw}'`,
    );
  }
}

/** The FATHOM_ISA values the addon knows (it reads the variable itself, at its first kernel call). */
const ISA_NAMES = ['auto', 'scalar', 'avx2', 'avx512', 'neon'];

/**
 * Validates FATHOM_ISA before the addon reads it: the names are
 * case-insensitive ('AVX2' is avx2: the variable is rewritten in lower case),
 * and an unknown name is refused as such, not as "not available on this CPU".
 */
export function checkIsaEnv(): void {
  const raw = process.env.FATHOM_ISA;
  if (raw === undefined || raw.trim() === '') return;
  const name = raw.trim().toLowerCase();
  if (!ISA_NAMES.includes(name)) {
    throw new Error(`fathom: FATHOM_ISA must be one of ${ISA_NAMES.join(', ')} (or unset), got '${raw}'`);
  }
}

/** Rewrites a known FATHOM_ISA name in lower case before the addon reads it. */
function normalizeIsaEnv(): void {
  const raw = process.env.FATHOM_ISA;
  if (raw === undefined) return;
  const name = raw.trim().toLowerCase();
  if (name !== raw && ISA_NAMES.includes(name)) process.env.FATHOM_ISA = name;
}

function tryNative(): { binding: NativeBinding | null; error: string; isaError: string } {
  if (!loaded) {
    checkNumThreadsEnv();
    normalizeIsaEnv();
    const r = loadBinding();
    if (r.binding) {
      const info = r.binding.info();
      loaded = info.isaError
        ? { binding: null, error: info.isaError, isaError: info.isaError }
        : { binding: r.binding, error: '', isaError: '' };
    } else {
      loaded = { binding: null, error: r.error, isaError: '' };
    }
  }
  return loaded;
}

/** Throws when FATHOM_ISA asked for what this CPU or binary cannot run. */
function checkIsa(isaError: string): void {
  if (isaError) {
    throw new Error(
      `fathom: ${isaError}. Unset FATHOM_ISA (or set it to auto) to pick the best variant this CPU runs, ` +
        `or FATHOM_BACKEND=ts for the TypeScript backend.`,
    );
  }
}

const FIX =
  'Reinstall so the prebuilt binary is used (npm install fathom), or compile it: install cmake and a C++17 ' +
  'compiler, then run `npm rebuild fathom` (or FATHOM_BUILD_FROM_SOURCE=1 npm install).';

/** The native addon, or null when it cannot load. */
export function nativeBinding(): NativeBinding | null {
  return tryNative().binding;
}

/** Why the native addon did not load ('' when it did). */
export function nativeLoadError(): string {
  return tryNative().error;
}

function select(): Backend {
  const want = (process.env.FATHOM_BACKEND ?? '').trim().toLowerCase();
  if (want !== '' && want !== 'native' && want !== 'ts' && want !== 'auto') {
    throw new Error(`fathom: FATHOM_BACKEND must be 'native', 'ts' or 'auto', got '${process.env.FATHOM_BACKEND}'`);
  }
  checkNumThreadsEnv();
  if (want === 'ts') return tsBackend;
  checkIsaEnv();
  const { binding, error, isaError } = tryNative();
  checkIsa(isaError);
  if (binding) return nativeBackend(binding);
  if (want === 'native') {
    throw new Error(`fathom: FATHOM_BACKEND=native but the native addon is unavailable: ${error}. ${FIX}`);
  }
  if (!warned) {
    warned = true;
    process.emitWarning(`the native addon did not load (${error}); using the slower TypeScript backend. ${FIX}`, {
      code: 'FATHOM_NO_NATIVE',
      type: 'FathomWarning',
    });
  }
  return tsBackend;
}

/** The backend every op uses; each raw kernel validates its arguments (checked.ts). */
export function backend(): Backend {
  return (current ??= select());
}

let kernelsFor: Backend | undefined;
let kernelsRaw: Backend | undefined;

/**
 * @internal The current backend's kernels without the per-call argument
 * checks, for fathom's own ops, which validate their inputs at the op level
 * (see uncheckedOf in checked.ts). User code gets backend(), which checks.
 */
export function kernels(): Backend {
  const b = backend();
  if (b !== kernelsFor) {
    kernelsFor = b;
    kernelsRaw = uncheckedOf(b);
  }
  return kernelsRaw!;
}

/** Switches backend at run time ('native' throws when the addon cannot load). */
export function setBackend(name: BackendName): void {
  if (name === 'ts') {
    current = tsBackend;
    return;
  }
  if (name !== 'native') throw new Error(`fathom.setBackend: expected 'native' or 'ts', got '${String(name)}'`);
  checkIsaEnv();
  const { binding, error, isaError } = tryNative();
  checkIsa(isaError);
  if (!binding) throw new Error(`fathom.setBackend('native'): the native addon is unavailable: ${error}. ${FIX}`);
  current = nativeBackend(binding);
}

export function getBackendByName(name: BackendName): Backend {
  if (name === 'ts') return tsBackend;
  const { binding, error, isaError } = tryNative();
  checkIsa(isaError);
  if (!binding) throw new Error(`fathom: the native addon is unavailable: ${error}. ${FIX}`);
  return nativeBackend(binding);
}


export function nativeInfo(): NativeInfo | null {
  return tryNative().binding?.info() ?? null;
}
