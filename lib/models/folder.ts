/**
 * Making the folder a file goes into (ModelCheckpoint's, `fathom train --task gan --out`).
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * mkdir -p without Node's `recursive: true`, which loops forever where mkdir answers ENOENT for a
 * folder whose parent exists (/proc/x on Linux): each missing level is made in turn, and an error
 * after the parent exists is thrown. An existing file at `dir` is refused as not a folder.
 */
export async function makeFolder(dir: string): Promise<void> {
  const path = resolve(dir);
  const once = async (): Promise<'made' | 'missing'> => {
    try {
      await mkdir(path);
      return 'made';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'missing';
      if (code === 'EEXIST' && (await stat(path)).isDirectory()) return 'made';
      if (code === 'EEXIST') throw new Error(`${dir} exists and is not a folder`, { cause: err });
      throw err;
    }
  };
  if ((await once()) === 'made') return;
  const parent = dirname(path);
  if (parent === path) throw new Error(`cannot create the folder ${dir}`);
  await makeFolder(parent);
  if ((await once()) === 'missing') throw new Error(`cannot create the folder ${dir} (its parent exists, mkdir answers ENOENT)`);
}
