/**
 * Bounded reading of files that may be hostile, and file-system errors in words.
 *
 * A reader must never trust a path to name an ordinary, finite file: a FIFO
 * never ends (and blocks `open` until a writer appears), /dev/zero and
 * /dev/urandom never end, /proc files report size 0 and then produce data,
 * and a file may grow while it is read. So:
 *   - open with O_NONBLOCK (a FIFO opens at once instead of blocking), then
 *     fstat the handle and refuse anything that is not a regular file;
 *   - read at most the size fstat reported, by positional reads;
 *   - after reading, probe one byte past that size: a file that grew (or
 *     shrank) meanwhile is refused instead of half-read.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The largest single read request (Node refuses reads of 2 GiB or more). */
const READ_CHUNK = 1 << 30;

/** `fail(message, cause)` throws an Error that already names the op and the path. */
export type Fail = (msg: string, cause?: unknown) => never;

const codeOf = (err: unknown): string | undefined => {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

/**
 * Why a file-system call failed, in words, ending with the error code:
 * `the folder /a/b does not exist (ENOENT)`. `dir` is the folder the file is
 * (to be) in; `writing` picks the wording for a write.
 */
export function fsReason(err: unknown, dir: string, writing: boolean): string {
  const code = codeOf(err);
  const why = ((): string => {
    switch (code) {
      case 'ENOENT': return writing ? `the folder ${dir} does not exist` : 'no such file';
      case 'ENOTDIR': return `a part of the path ${dir} is not a folder`;
      case 'EACCES':
      case 'EPERM': return writing ? `permission denied (cannot create or replace files in ${dir})` : 'permission denied';
      case 'EROFS': return `${dir} is on a read-only file system`;
      case 'ENOSPC': return 'no space left on the device';
      case 'EDQUOT': return 'the disk quota is exhausted';
      case 'EISDIR':
      case 'ENOTEMPTY':
      case 'EEXIST': return 'it is a folder, not a file';
      case 'ENAMETOOLONG': return 'the file name is too long';
      case 'ELOOP': return 'too many symbolic links (a link loop?)';
      case 'EMFILE':
      case 'ENFILE': return 'too many open files';
      case 'ENXIO': return 'it is a socket or a device without a reader, not a file';
      case 'EIO': return 'an input/output error from the device';
      case 'EFBIG': return 'the file is too large for this file system';
      default: return (err as Error)?.message ?? String(err);
    }
  })();
  return code && !why.includes(code) ? `${why} (${code})` : why;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe), which may never end';
  if (st.isCharacterDevice()) return 'a character device (like /dev/zero), which may never end';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `path` for reading and returns the handle and the size fstat
 * reports; refuses (through `fail`) anything but a regular file, without
 * ever blocking on a FIFO. The caller closes the handle.
 */
export async function openRegularFile(path: string, dir: string, fail: Fail): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    return fail(`cannot open it: ${fsReason(err, dir, false)}`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) fail(`expected a regular file, got ${kindOf(st)}`);
    return { fh, size: st.size };
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

/** Fills `into` from byte `position` of the file; a file that ends early is refused. */
export async function readExactly(fh: FileHandle, into: Uint8Array, position: number, fail: Fail): Promise<void> {
  let done = 0;
  while (done < into.length) {
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(into, done, Math.min(into.length - done, READ_CHUNK), position + done));
    } catch (err) {
      return fail(`cannot read it: ${fsReason(err, '', false)}`, err);
    }
    if (n === 0) fail(`the file shrank while being read (it ended at byte ${position + done}; is another process writing it?)`);
    done += n;
  }
}

/** Refuses a file that has bytes past `size` now (it grew while being read). */
export async function checkEndsAt(fh: FileHandle, size: number, fail: Fail): Promise<void> {
  const probe = new Uint8Array(1);
  let n: number;
  try {
    ({ bytesRead: n } = await fh.read(probe, 0, 1, size));
  } catch (err) {
    return fail(`cannot read it: ${fsReason(err, '', false)}`, err);
  }
  if (n !== 0) fail(`the file grew while being read (it had ${size} bytes when opened; is another process writing it?)`);
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes: never more than
 * the size it had when opened, never a FIFO or a device.
 */
export async function readRegularFile(path: string, dir: string, fail: Fail, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
  const { fh, size } = await openRegularFile(path, dir, fail);
  try {
    if (size > maxBytes) fail(`expected a file of at most ${maxBytes} bytes, got ${size}`);
    const buf = new Uint8Array(size);
    await readExactly(fh, buf, 0, fail);
    await checkEndsAt(fh, size, fail);
    return buf;
  } finally {
    await fh.close().catch(() => {});
  }
}
