/**
 * Backend selection. FATHOM_BACKEND=native|ts forces one; by default the
 * native addon is used and, when it cannot load, fathom falls back to the
 * TypeScript backend with one warning that says why and how to fix it.
 * Forcing native when it cannot load throws.
 */
import type { Backend } from './backend.js';
import { loadBinding, type NativeBinding, type NativeInfo } from './native/binding.js';
import { nativeBackend } from './native/index.js';
import { tsBackend } from './ts/index.js';

export type BackendName = 'native' | 'ts';

let loaded: { binding: NativeBinding | null; error: string } | undefined;
let current: Backend | undefined;
let warned = false;

function tryNative(): { binding: NativeBinding | null; error: string } {
  if (!loaded) {
    const r = loadBinding();
    if (r.binding) {
      const info = r.binding.info();
      loaded = info.isaError ? { binding: null, error: info.isaError } : { binding: r.binding, error: '' };
    } else {
      loaded = { binding: null, error: r.error };
    }
  }
  return loaded;
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
  if (want === 'ts') return tsBackend;
  const { binding, error } = tryNative();
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

/** The backend every op uses. */
export function backend(): Backend {
  return (current ??= select());
}

/** Switches backend at run time ('native' throws when the addon cannot load). */
export function setBackend(name: BackendName): void {
  if (name === 'ts') {
    current = tsBackend;
    return;
  }
  if (name !== 'native') throw new Error(`fathom.setBackend: expected 'native' or 'ts', got '${String(name)}'`);
  const { binding, error } = tryNative();
  if (!binding) throw new Error(`fathom.setBackend('native'): the native addon is unavailable: ${error}. ${FIX}`);
  current = nativeBackend(binding);
}

export function getBackendByName(name: BackendName): Backend {
  if (name === 'ts') return tsBackend;
  const { binding, error } = tryNative();
  if (!binding) throw new Error(`fathom: the native addon is unavailable: ${error}. ${FIX}`);
  return nativeBackend(binding);
}


export function nativeInfo(): NativeInfo | null {
  return tryNative().binding?.info() ?? null;
}
