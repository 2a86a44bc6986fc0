/**
 * Atomic file replacement: a reader sees either the old file or the whole
 * new one, never a mix, and a failed write leaves the old file untouched.
 *
 *   1. write the bytes to `<path>.<pid>.<random>.tmp` in the same directory
 *      (same file system, so the rename is atomic), created exclusively;
 *   2. fsync the temporary file so its data is on disk before it is named;
 *   3. rename it over `path`;
 *   4. fsync the directory so the rename itself survives a crash (best
 *      effort: some platforms, Windows among them, cannot open a directory).
 *
 * On any error the temporary file is removed and the error rethrown.
 */

import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /**
   * Writes `data` to the open temporary file. Defaults to `fh.writeFile(data)`.
   * Tests pass one that fails part way to check that nothing is damaged.
   */
  write?: (fh: FileHandle, data: Uint8Array) => Promise<void>;
}

/** The temporary name used for `path`; exported so tests can look for leftovers. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Replaces `path` with `data` atomically (see the file comment). */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const write = opts.write ?? ((fh: FileHandle, bytes: Uint8Array) => fh.writeFile(bytes));
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  let created = false;
  try {
    fh = await open(tmp, 'wx');
    created = true;
    await write(fh, data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (fh !== undefined) await fh.close().catch(() => {});
    if (created) await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  let dh: FileHandle | undefined;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    // Best effort: the data is already renamed into place; only crash
    // durability of the directory entry is at stake here.
  } finally {
    await dh?.close().catch(() => {});
  }
}
