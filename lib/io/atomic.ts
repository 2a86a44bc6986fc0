/**
 * Atomic file replacement: a reader sees either the old file or the whole
 * new one, never a mix, and a failed write leaves the old file untouched.
 *
 *   1. write the bytes to `<name>.<host>.<pid>.<random>.tmp` in the same
 *      directory (same file system, so the rename is atomic), created exclusively;
 *   2. fsync the temporary file so its data is on disk before it is named;
 *   3. rename it over `path`;
 *   4. fsync the directory so the rename itself survives a crash (best
 *      effort: some platforms, Windows among them, cannot open a directory).
 *
 * On any error the temporary file is removed and an Error is thrown that
 * names the TARGET path and says why (`cannot write <path>: <reason> (CODE)`,
 * with `code` and `cause` set), never only the temporary name.
 *
 * A process killed between 1 and 3 cannot remove its temporary file. The
 * name carries the writer's host and pid, so the next write to the same
 * path removes leftovers of writers on this host that no longer exist
 * (`process.kill(pid, 0)` fails with ESRCH). Files of live writers, of other
 * hosts (a shared network folder) and of other users are never touched.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { lstat, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsReason } from './files.js';

export interface WriteFileAtomicOptions {
  /**
   * Writes `data` to the open temporary file. Defaults to `fh.writeFile(data)`.
   * Tests pass one that fails part way to check that nothing is damaged.
   */
  write?: (fh: FileHandle, data: Uint8Array) => Promise<void>;
}

/** This host's name as it appears in temporary names: [A-Za-z0-9-] only, at most 32 characters. */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'host';
const TEMP_TAIL = /^([A-Za-z0-9-]{1,32})\.(\d{1,10})\.[0-9a-f]{12}\.tmp$/;
/** fathom 0.1.0 named temporary files `<name>.<pid>.<random>.tmp`, without the host. */
const LEGACY_TEMP_TAIL = /^()(\d{1,10})\.[0-9a-f]{12}\.tmp$/;

/** The temporary name used for `path`; exported so tests can look for leftovers. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${HOST}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Whether process `pid` exists (EPERM: it does, but belongs to another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that writers of `path` on this host left
 * behind when they died (killed mid-save). Returns the names removed.
 * Never throws: a folder that cannot be listed or a file that cannot be
 * removed is left as it is.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const tail = name.slice(prefix.length);
    const m = TEMP_TAIL.exec(tail) ?? LEGACY_TEMP_TAIL.exec(tail);
    if (!m || (m[1] !== HOST && m[1] !== '')) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processExists(pid)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already (another process cleaned it) or not ours to remove.
    }
  }
  return removed;
}

/** An Error for a failed write of `path` (the target, never the temp name). */
async function writeError(path: string, err: unknown): Promise<Error> {
  const dir = dirname(path);
  const code = (err as { code?: unknown } | null)?.code;
  // ENOENT from creating a file in a folder that exists (/proc, a vanished mount).
  const folderExists = code === 'ENOENT' && (await stat(dir).then((s) => s.isDirectory(), () => false));
  const reason = folderExists ? `cannot create a file in the folder ${dir} (ENOENT)` : fsReason(err, dir, true);
  const e = new Error(`cannot write ${path}: ${reason}`, { cause: err });
  if (typeof code === 'string') (e as Error & { code?: string }).code = code;
  return e;
}

/** The target must not be a folder; checked first, so a large write is not wasted. */
async function refuseFolder(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  } catch (err) {
    if ((err as { code?: string }).code === 'EISDIR') throw err;
    // ENOENT (no file yet) and the rest: the write below reports them.
  }
}

/**
 * Checks, without changing anything visible, that `path` can be written: its
 * folder exists and accepts a new file, and `path` is not a folder. Creates
 * and removes one empty temporary file. Throws like writeFileAtomic.
 * Use it before long work whose result will be saved (`fathom train --save`).
 */
export async function checkWritable(path: string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await refuseFolder(path);
    const fh = await open(tmp, 'wx');
    await fh.close();
    await unlink(tmp);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw await writeError(path, err);
  }
}

/** Replaces `path` with `data` atomically (see the file comment). */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const write = opts.write ?? ((fh: FileHandle, bytes: Uint8Array) => fh.writeFile(bytes));
  await removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  let created = false;
  try {
    await refuseFolder(path);
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
    throw await writeError(path, err);
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
