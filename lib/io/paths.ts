/**
 * Path arguments of fathom's file functions: a string, or a `file:` URL
 * (a WHATWG `URL`, e.g. `new URL('./model.safetensors', import.meta.url)`).
 *
 * The URL type is structural on purpose: the published declarations must
 * compile for a user without `@types/node` and without the DOM library,
 * where the name `URL` does not exist as a type.
 */
import { fileURLToPath } from 'node:url';

/** Anything shaped like a WHATWG `URL`; only the `file:` protocol is accepted. */
export interface FileURLLike {
  readonly href: string;
  readonly protocol: string;
}

/** A file path: a string, or a `file:` URL. */
export type FilePath = string | FileURLLike;

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${Object.prototype.toString.call(v)})` : `${typeof v} ${String(v)}`;

/**
 * Turns `p` into a file-system path, or throws `<op>: expected <arg> to be ...`.
 * A string starting with `file://` is read as a URL; other `scheme://`
 * strings are refused. Refuses: non-strings that are not `file:` URLs, the
 * empty string, and strings with a NUL byte (the OS would cut the path there).
 */
export function toPath(p: unknown, op: string, arg = 'path'): string {
  if (typeof p === 'string') {
    if (p.length === 0) throw new Error(`${op}: expected ${arg} to be a file path or a file: URL, got an empty string`);
    if (p.includes('\0')) throw new Error(`${op}: expected ${arg} to be a file path without NUL bytes, got ${JSON.stringify(p)}`);
    // A URL written as a string: 'file://...' means that file (not a folder named 'file:');
    // any other scheme ('https://...') is refused rather than read as a relative path.
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(p);
    if (scheme) {
      if (scheme[1].toLowerCase() !== 'file') {
        throw new Error(`${op}: expected ${arg} to be a local file path or a file: URL, got a ${scheme[1]}: URL (${p}); fathom reads and writes local files only`);
      }
      try {
        return fileURLToPath(p);
      } catch (err) {
        throw new Error(`${op}: expected ${arg} to be a usable file: URL, got ${p} (${(err as Error).message})`, { cause: err });
      }
    }
    return p;
  }
  if (p !== null && typeof p === 'object') {
    const { href, protocol } = p as Partial<FileURLLike>;
    if (typeof href === 'string' && typeof protocol === 'string') {
      if (protocol !== 'file:') throw new Error(`${op}: expected ${arg} to be a file path or a file: URL, got a ${protocol} URL (${href})`);
      try {
        return fileURLToPath(href);
      } catch (err) {
        throw new Error(`${op}: expected ${arg} to be a usable file: URL, got ${href} (${(err as Error).message})`, { cause: err });
      }
    }
  }
  throw new Error(`${op}: expected ${arg} to be a file path (string) or a file: URL, got ${describe(p)}`);
}
