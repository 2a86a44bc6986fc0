// Runs code as if no optional package were installed: node:module's createRequire gives a require whose
// resolve() fails with MODULE_NOT_FOUND (how fathom looks its optional peers up), on freshly imported modules.
import { vi } from 'vitest';

/** Calls fn with every optional package "missing"; modules fn imports are fresh, and the mock is gone after. */
export async function withoutOptionalPackages(fn: () => Promise<void>): Promise<void> {
  vi.resetModules();
  vi.doMock('node:module', async (orig) => ({
    ...(await orig<typeof import('node:module')>()),
    createRequire: () => Object.assign(() => ({}), {
      resolve: (s: string) => {
        throw Object.assign(new Error(`Cannot find module '${s}'`), { code: 'MODULE_NOT_FOUND' });
      },
    }),
  }));
  try {
    await fn();
  } finally {
    vi.doUnmock('node:module');
    vi.resetModules();
  }
}
