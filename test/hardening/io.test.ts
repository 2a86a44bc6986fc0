/**
 * Model files against hostile input and faults (issue #8, sections 2 and 3):
 *   - load() never reads or allocates more than the file's real size allows:
 *     a FIFO, /dev/zero, /dev/urandom, a folder are refused at once; a tiny
 *     file declaring a huge layer is refused before the layer is built
 *     (measured as peak RSS in a child process, on both backends);
 *   - a file that is not safetensors says so; every failed save names the
 *     target path and the reason (missing folder, read-only, full disk);
 *     save() and load() take file: URLs;
 *   - a save killed by SIGKILL leaves temp files that the next save removes.
 * Child processes run the compiled package (dist/, built by `npm test`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, save, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { readIdx } from '../../lib/data/idx.js';
import { removeStaleTempFiles, tempPathFor } from '../../lib/io/atomic.js';
import { encodeSafetensors, loadSafetensors, saveSafetensors, type SafeTensor } from '../../lib/io/safetensors.js';
import { fromConfig, parameterShapes, registerModuleType } from '../../lib/layers/registry.js';

const root = resolve(import.meta.dirname, '..', '..');
const distIndex = join(root, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'fathom-hardening-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const posix = process.platform !== 'win32';
const backends: ('ts' | 'native')[] = ['ts', ...(nativeBinding() ? ['native' as const] : [])];
const FORMAT = 'fathom.model/1';

/** A 200-byte-class file: the architecture says `arch`, the tensors are whatever `tensors` holds. */
function modelFile(arch: unknown, tensors: Record<string, SafeTensor>): Uint8Array {
  return encodeSafetensors(tensors, { format: FORMAT, 'fathom.architecture': JSON.stringify(arch) });
}
const tiny = (n = 1): SafeTensor => ({ dtype: 'F32', shape: [n], data: new Float32Array(n) });
const hugeArch = { type: 'Sequential', layers: [{ type: 'Linear', inFeatures: 16384, outFeatures: 16384, bias: true, init: 'glorot' }] };

/** A raw safetensors file whose header is given as an object (it may lie about sizes). */
function rawFile(header: object, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function smallModel(): nn.Module {
  manualSeed(3);
  return new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
}

const tmpFiles = async (d: string) => (await readdir(d)).filter((f) => f.endsWith('.tmp'));

describe('load() reads and allocates no more than the file really holds', () => {
  const files: Record<string, string> = {};
  beforeAll(async () => {
    files.hugeLayer = join(dir, 'huge-layer.safetensors');
    await writeFile(files.hugeLayer, modelFile(hugeArch, { '0.weight': tiny(), '0.bias': tiny() }));
    files.hugeTensor = join(dir, 'huge-tensor.safetensors');
    await writeFile(files.hugeTensor, rawFile({
      __metadata__: { format: FORMAT, 'fathom.architecture': JSON.stringify(hugeArch) },
      '0.weight': { dtype: 'F32', shape: [16384, 16384], data_offsets: [0, 16384 * 16384 * 4] },
      '0.bias': { dtype: 'F32', shape: [16384], data_offsets: [16384 * 16384 * 4, 16384 * 16385 * 4] },
    }, 8));
    if (posix) {
      files.fifo = join(dir, 'model.fifo');
      execFileSync('mkfifo', [files.fifo]);
    }
  });

  it('the hostile model files are small', async () => {
    expect((await readFile(files.hugeLayer)).length).toBeLessThan(400);
    expect((await readFile(files.hugeTensor)).length).toBeLessThan(400);
  });

  it('a 16384×16384 layer declared by a tiny file is refused before anything is built', async () => {
    await expect(load(files.hugeLayer!)).rejects.toThrow(
      `fathom.load: ${files.hugeLayer}: tensor '0.weight' has shape [1], the architecture needs [16384, 16384]`);
    await expect(load(files.hugeTensor!)).rejects.toThrow(
      /^fathom\.load: safetensors: .*: expected tensor "0\.weight" to have data_offsets \[begin, end\] with 0 <= begin <= end <= 8 \(the data length\)/);
  });

  it.skipIf(!existsSync('/dev/zero'))('never-ending and special files are refused at once, naming the path and the kind', async () => {
    await expect(load('/dev/zero')).rejects.toThrow('fathom.load: safetensors: /dev/zero: expected a regular file, got a character device (like /dev/zero), which may never end');
    await expect(load('/dev/urandom')).rejects.toThrow(/^fathom\.load: safetensors: \/dev\/urandom: expected a regular file, got a character device/);
    await expect(load(files.fifo!)).rejects.toThrow(`fathom.load: safetensors: ${files.fifo}: expected a regular file, got a FIFO (named pipe), which may never end`);
    await expect(load(dir)).rejects.toThrow(`fathom.load: safetensors: ${dir}: expected a regular file, got a folder`);
    // The same reader guards the IDX loader (the MNIST format).
    await expect(readIdx('/dev/zero')).rejects.toThrow('idx: /dev/zero: expected a regular file, got a character device');
    await expect(readIdx(files.fifo!)).rejects.toThrow(/^fathom.data.idx: .*model\.fifo: expected a regular file, got a FIFO/);
  });

  it('a file that grows or shrinks while it is read is refused (reads stop at the size it had)', async () => {
    const p = join(dir, 'changing.safetensors');
    const good = modelFile(smallModel().config(), Object.fromEntries(smallModel().namedParameters().map(([n, t]) => [n, { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array } as SafeTensor])));
    await writeFile(p, good);
    // The check hook (synchronous) runs after the header is read and before the data: change the file there.
    await expect(loadSafetensors(p, { check: () => appendFileSync(p, new Uint8Array(16)) })).rejects.toThrow(
      `safetensors: ${p}: the file grew while being read (it had ${good.length} bytes when opened; is another process writing it?)`);
    await writeFile(p, good);
    await expect(loadSafetensors(p, { check: () => truncateSync(p, good.length - 4) })).rejects.toThrow(
      /the file shrank while being read \(it ended at byte \d+; is another process writing it\?\)/);
    await writeFile(p, good);
    await expect(load(p)).resolves.toBeInstanceOf(nn.Module);
  });

  // Peak resident memory of a child that loads every hostile file: a few MB at most.
  // Before the fix the first file alone cost > 1 GiB and the FIFO never returned.
  for (const b of backends) {
    it.skipIf(!posix)(`peak memory and time of hostile loads stay small (${b} backend, child process)`, () => {
      expect(existsSync(distIndex), 'dist/ is missing: run `npm run build:ts` (npm test does)').toBe(true);
      const paths = [files.hugeLayer, files.hugeTensor, files.fifo, '/dev/zero', '/dev/urandom', dir];
      const script = `
        const f = await import(process.argv[1]);
        f.zeros([1]); // the backend is loaded before the baseline
        const base = process.resourceUsage().maxRSS;
        const out = [];
        for (const p of JSON.parse(process.argv[2])) {
          const t0 = performance.now();
          const error = await f.load(p).then(() => null, (e) => e.message);
          out.push({ p, error, ms: performance.now() - t0 });
        }
        console.log(JSON.stringify({ out, grewKiB: process.resourceUsage().maxRSS - base, backend: f.info().backend }));
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, distIndex, JSON.stringify(paths)], {
        encoding: 'utf8', timeout: 30_000, env: { ...process.env, FATHOM_BACKEND: b },
      });
      expect(r.error, `child failed: ${r.stderr}`).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(res.backend).toBe(b);
      for (const { p, error, ms } of res.out) {
        expect(error, p).toMatch(/^fathom\.load: /);
        expect(ms, p).toBeLessThan(2000);
      }
      expect(res.grewKiB).toBeLessThan(32 * 1024);
    }, 40_000);
  }
});

describe('the architecture is checked against the file before any module is built', () => {
  let built = 0;
  beforeAll(() => {
    registerModuleType('ProbeLinear', (c) => {
      built++;
      return new nn.Linear(c.n as number, c.n as number);
    }, (c) => [['weight', [c.n as number, c.n as number]], ['bias', [c.n as number]]]);
    registerModuleType('ProbeNoShapes', (c) => {
      built++;
      return new nn.Linear(c.n as number, c.n as number);
    });
  });

  it('parameterShapes(config) equals the built model\'s parameters, allocating nothing', () => {
    const m = new nn.Sequential(new nn.Linear(5, 7), new nn.Tanh(), new nn.Sequential(new nn.Linear(7, 3, { bias: false }), new nn.ReLU()), new nn.Linear(3, 2));
    expect(parameterShapes(m.config())).toEqual(m.namedParameters().map(([n, t]) => [n, [...t.shape]]));
    expect(parameterShapes({ type: 'Sequential', layers: [{ type: 'Linear', inFeatures: 2 ** 40, outFeatures: 2 ** 40 }] }))
      .toEqual([['0.weight', [2 ** 40, 2 ** 40]], ['0.bias', [2 ** 40]]]);
    expect(parameterShapes({ type: 'ProbeNoShapes', n: 3 })).toBeNull();
    expect(() => parameterShapes({ type: 'Linear', inFeatures: -1, outFeatures: 2 })).toThrow(/Linear\.inFeatures must be a positive integer, got -1/);
    expect(() => parameterShapes({ type: 'Nope' })).toThrow(/unknown module type 'Nope'/);
    expect(() => parameterShapes({ type: 'Sequential', layers: [null] } as never)).toThrow(/expected \{type: string, \.\.\.\}, got null/);
  });

  it('a mismatched file never reaches the factory; a matching one loads', async () => {
    const p = join(dir, 'probe.safetensors');
    await writeFile(p, modelFile({ type: 'ProbeLinear', n: 16384 }, { weight: tiny(), bias: tiny() }));
    built = 0;
    await expect(load(p)).rejects.toThrow(/tensor 'weight' has shape \[1\], the architecture needs \[16384, 16384\]/);
    await writeFile(p, modelFile({ type: 'ProbeLinear', n: 16384 }, { weight: tiny() }));
    await expect(load(p)).rejects.toThrow(/tensor 'weight' has shape \[1\]/);
    await writeFile(p, modelFile({ type: 'ProbeLinear', n: 2 }, { weight: tiny(), bias: tiny(2), extra: tiny() }));
    await expect(load(p)).rejects.toThrow(/tensors not in the architecture: "extra"/);
    expect(built).toBe(0);
    await writeFile(p, modelFile({ type: 'ProbeLinear', n: 2 }, { weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }, bias: tiny(2) }));
    const m = await load(p);
    expect(built).toBe(1);
    expect([...m.forward(tensor([[1, 0]])).data]).toEqual([1, 3]);
  });

  it('a type registered without a shape function is built to learn its shapes, and still checked', async () => {
    const p = join(dir, 'noshapes.safetensors');
    await writeFile(p, modelFile({ type: 'ProbeNoShapes', n: 2 }, { weight: tiny(), bias: tiny(2) }));
    await expect(load(p)).rejects.toThrow(/tensor 'weight' has shape \[1\], the architecture needs \[2, 2\]/);
    await writeFile(p, modelFile({ type: 'ProbeNoShapes', n: 2 }, { weight: tiny(4), bias: tiny(2) }));
    await expect(load(p)).rejects.toThrow(/shape \[4\]/);
  });

  it('a wrong shape function is reported, not trusted', async () => {
    registerModuleType('ProbeLiar', () => new nn.Linear(2, 2), () => [['weight', [2, 2]]]);
    const p = join(dir, 'liar.safetensors');
    await writeFile(p, modelFile({ type: 'ProbeLiar' }, { weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } }));
    await expect(load(p)).rejects.toThrow(/shape functions predicted parameters \[weight \[2, 2\]\], but the model built has \[weight \[2, 2\], bias \[2\]\]/);
    expect(fromConfig({ type: 'ProbeLiar' })).toBeInstanceOf(nn.Linear);
  });
});

describe('clear errors that name the path', () => {
  it('a file that is not safetensors says so', async () => {
    const p = join(dir, 'notes.txt');
    await writeFile(p, 'this is a text file, not a model at all\n');
    await expect(load(p)).rejects.toThrow(`fathom.load: safetensors: ${p}: not a safetensors file: its first 8 bytes give a header length of`);
    const png = join(dir, 'image.png');
    await writeFile(png, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await expect(load(png)).rejects.toThrow(/^fathom\.load: safetensors: .*image\.png: not a safetensors file/);
    const short = join(dir, 'short.bin');
    await writeFile(short, new Uint8Array(3));
    await expect(load(short)).rejects.toThrow(/not a safetensors file: expected at least 8 bytes/);
    await expect(load(join(dir, 'absent.safetensors'))).rejects.toThrow(`fathom.load: safetensors: ${join(dir, 'absent.safetensors')}: cannot open it: no such file (ENOENT)`);
  });

  it('save and load take file: URLs; other URLs and non-paths are refused by name', async () => {
    const p = join(dir, 'url model.safetensors');
    const m = smallModel();
    await save(m, pathToFileURL(p));
    const again = await load(pathToFileURL(p));
    const x = tensor([[1, 2, 3, 4]]);
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
    await expect(save(m, new URL('https://example.com/m.safetensors'))).rejects.toThrow('fathom.save: expected path to be a file path or a file: URL, got a https: URL (https://example.com/m.safetensors)');
    await expect(load(new URL('http://example.com/m'))).rejects.toThrow(/^fathom\.load: expected path to be a file path or a file: URL, got a http: URL/);
    await expect(save(m, 42 as never)).rejects.toThrow('fathom.save: expected path to be a file path (string) or a file: URL, got number 42');
    await expect(save(m, '')).rejects.toThrow('fathom.save: expected path to be a file path or a file: URL, got an empty string');
    await expect(load(null as never)).rejects.toThrow('fathom.load: expected path to be a file path (string) or a file: URL, got null');
    await expect(save(m, 'a\0b')).rejects.toThrow(/without NUL bytes/);
    // The same URLs written as strings: file:// is that file, other schemes are refused.
    const q = join(dir, 'string url.safetensors');
    await save(m, pathToFileURL(q).href);
    expect([...(await load(pathToFileURL(q).href)).predict(x).data]).toEqual([...m.predict(x).data]);
    await expect(load('https://example.com/m.safetensors')).rejects.toThrow(/^fathom\.load: expected path to be a local file path or a file: URL, got a https: URL/);
  });

  it('save into a missing folder names the target and the folder, never the temp file', async () => {
    const target = join(dir, 'missing', 'deeper', 'm.safetensors');
    const err = await save(smallModel(), target).catch((e: Error) => e);
    expect((err as Error).message).toBe(`fathom.save: safetensors: cannot write ${target}: the folder ${join(dir, 'missing', 'deeper')} does not exist (ENOENT)`);
    expect((err as Error & { code?: string }).code).toBe('ENOENT');
  });

  it('save onto a folder, or through a file used as a folder, says so', async () => {
    const folder = join(dir, 'a-folder');
    await mkdir(folder, { recursive: true });
    await expect(save(smallModel(), folder)).rejects.toThrow(`fathom.save: safetensors: cannot write ${folder}: it is a folder, not a file (EISDIR)`);
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    await expect(save(smallModel(), join(file, 'm.safetensors'))).rejects.toThrow(/cannot write .*plain-file\/m\.safetensors: a part of the path .*plain-file is not a folder \(ENOTDIR\)/);
    expect(await tmpFiles(dir)).toEqual([]);
  });

  it('a full disk (injected ENOSPC) names the target, keeps the old file and leaves no temp file', async () => {
    const p = join(dir, 'full.safetensors');
    const t: Record<string, SafeTensor> = { w: tiny(4) };
    await saveSafetensors(p, t);
    const before = await readFile(p);
    const enospc = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const err = await saveSafetensors(p, { w: tiny(1000) }, {}, { write: enospc }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`safetensors: cannot write ${p}: no space left on the device (ENOSPC)`);
    expect((err as Error).message).not.toMatch(/\.tmp/);
    expect(await readFile(p)).toEqual(before);
    expect(await tmpFiles(dir)).toEqual([]);
  });

  it.skipIf(!posix || process.getuid?.() === 0)('a read-only folder (chmod 555, not root) names the target', async () => {
    const ro = join(dir, 'ro');
    await mkdir(ro);
    await chmod(ro, 0o555);
    try {
      await expect(save(smallModel(), join(ro, 'm.safetensors'))).rejects.toThrow(
        `fathom.save: safetensors: cannot write ${join(ro, 'm.safetensors')}: permission denied (cannot create or replace files in ${ro}) (EACCES)`);
    } finally {
      await chmod(ro, 0o755);
    }
  });

  // Real full and read-only file systems: small tmpfs mounts, where the process may mount (root on Linux).
  const mnt = join(dir, 'mnt');
  const canMount = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    try {
      execFileSync('mkdir', ['-p', mnt]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  afterAll(() => {
    if (canMount) spawnSync('umount', [mnt]);
  });

  it.skipIf(!canMount)('a really full disk (256 KiB tmpfs): ENOSPC names the target, the old file survives, no temp file', async () => {
    const p = join(mnt, 'm.safetensors');
    await save(smallModel(), p);
    const before = await readFile(p);
    const big = new nn.Sequential(new nn.Linear(256, 512)); // 513 KiB of weights
    const err = await save(big, p).catch((e: Error) => e);
    expect((err as Error).message).toBe(`fathom.save: safetensors: cannot write ${p}: no space left on the device (ENOSPC)`);
    expect(await readFile(p)).toEqual(before);
    expect(await readdir(mnt)).toEqual(['m.safetensors']);
  });

  it.skipIf(!canMount)('a really read-only file system (tmpfs remounted ro): EROFS names the target, the old file survives', async () => {
    const p = join(mnt, 'm.safetensors');
    await save(smallModel(), p);
    const before = await readFile(p);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      await expect(save(smallModel(), p)).rejects.toThrow(`fathom.save: safetensors: cannot write ${p}: ${mnt} is on a read-only file system (EROFS)`);
      await expect(load(p)).resolves.toBeInstanceOf(nn.Module);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
    expect(await readFile(p)).toEqual(before);
  });
});

describe('temp files of killed writers are removed by the next save', () => {
  it('removes leftovers of dead writers on this host only; live, foreign and unrelated files stay', async () => {
    const d = join(dir, 'stale');
    await mkdir(d);
    const p = join(d, 'm.safetensors');
    const host = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'host';
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    const names = {
      dead: `m.safetensors.${host}.${deadPid}.0123456789ab.tmp`,
      legacyDead: `m.safetensors.${deadPid}.0123456789ab.tmp`,
      live: `m.safetensors.${host}.${process.ppid}.0123456789ab.tmp`,
      mine: `m.safetensors.${host}.${process.pid}.0123456789ab.tmp`,
      otherHost: `m.safetensors.some-other-host.${deadPid}.0123456789ab.tmp`,
      otherFile: `n.safetensors.${host}.${deadPid}.0123456789ab.tmp`,
      notTemp: `m.safetensors.${host}.${deadPid}.backup`,
    };
    for (const n of Object.values(names)) await writeFile(join(d, n), 'x');
    expect(await removeStaleTempFiles(p)).toEqual(expect.arrayContaining([names.dead, names.legacyDead]));
    const left = (await readdir(d)).sort();
    expect(left).toEqual([names.live, names.mine, names.otherHost, names.otherFile, names.notTemp].sort());
    expect(tempPathFor(p)).toMatch(new RegExp(`m\\.safetensors\\.${host}\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  });

  it.skipIf(!posix)('SIGKILL mid-save: the file is never torn, and the next save removes the leftovers', async () => {
    expect(existsSync(distIndex), 'dist/ is missing: run `npm run build:ts` (npm test does)').toBe(true);
    const d = join(dir, 'killed');
    await mkdir(d);
    const p = join(d, 'm.safetensors');
    const script = `
      const f = await import(process.argv[1]);
      const m = new f.nn.Sequential(new f.nn.Linear(1024, 2048)); // 8 MiB per save
      console.log('ready');
      for (;;) await f.save(m, process.argv[2]);
    `;
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 8 && leftovers.length === 0; attempt++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, distIndex, p], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res, rej) => {
        child.stdout.once('data', () => res());
        child.once('exit', (code) => rej(new Error(`writer exited early (${code})`)));
      });
      const t0 = Date.now();
      while ((await tmpFiles(d)).length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 2));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      leftovers = await tmpFiles(d);
      if (existsSync(p)) await expect(load(p)).resolves.toBeInstanceOf(nn.Module); // never torn
    }
    expect(leftovers.length, 'no kill landed mid-save in 8 tries').toBeGreaterThan(0);
    await save(smallModel(), p);
    expect(await tmpFiles(d)).toEqual([]);
    expect((await load(p)).config()).toEqual(smallModel().config());
  }, 60_000);
});

describe('both backends load what they save', () => {
  for (const b of backends) {
    it(`${b}: round trip through a file: URL`, async () => {
      setBackend(b);
      try {
        const m = smallModel();
        const p = join(dir, `rt-${b}.safetensors`);
        await save(m, pathToFileURL(p));
        const again = await load(p);
        const x = tensor([[0.5, -1, 2, 0]]);
        expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
      } finally {
        setBackend(nativeBinding() ? 'native' : 'ts');
      }
    });
  }
});
