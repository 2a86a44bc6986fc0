/**
 * Optional peer dependencies (data sets and the plotting stack): found through
 * Node's module resolution, first from fathom itself, then from the working
 * directory's project (when fathom is a linked folder, `npm install <path>`,
 * its own resolution starts in the clone, not in the project that installed
 * the package). Never a hard-coded path, never a download: a missing package
 * is an Error naming the op and the `npm install` line that fixes it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The install hint of a missing optional package, as the error message says it. */
export function missingMessage(op: string, what: string, packages: readonly string[]): string {
  const names = packages.map((p) => `\`${p}\``).join(packages.length === 2 ? ' and ' : ', ');
  return `fathom.${op}: ${what} needs the optional ${packages.length === 1 ? 'package' : 'packages'} ${names}, which ${packages.length === 1 ? 'is' : 'are'} not installed: npm install ${packages.join(' ')}`;
}

/**
 * The file that `require.resolve(specifier)` finds, from fathom or else from
 * the working directory.
 * @throws Error with the install hint when neither finds it.
 */
export function resolveOptional(op: string, specifier: string, what: string, packages: readonly string[]): string {
  let first: unknown;
  for (const from of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return createRequire(from).resolve(specifier);
    } catch (err) {
      first ??= err;
    }
  }
  throw new Error(missingMessage(op, what, packages), { cause: first });
}

/** import() of an optional package (ES module or CommonJS), resolved as resolveOptional does. */
export async function importOptional<T>(op: string, pkg: string, what: string, packages: readonly string[]): Promise<T> {
  const file = resolveOptional(op, pkg, what, packages);
  return (await import(pathToFileURL(file).href)) as T;
}
