// fathom's workers (predictAsync, InferencePool, fitInWorker) start from a file, and Node refuses a worker
// file under the parent's --input-type (ERR_INPUT_TYPE_NOT_ALLOWED): a script run as
// `node --input-type=module -e …` (or `--input-type module`) must still get its answers
// (lib/serve/fit.ts workerExecArgv). Runs this checkout's dist/ in a child process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const script = `
import * as f from ${JSON.stringify(dist)};
f.manualSeed(3);
const m = new f.nn.Linear(3, 2);
const x = f.randn([2, 3]);
const want = Array.from(m.predict(x).data);
const a = Array.from((await m.predictAsync(x)).data);
const pool = new f.serve.InferencePool(m);
const b = Array.from((await pool.predict(x)).data);
await pool.close();
const r = await f.fitInWorker(m, f.randn([8, 3]), f.randn([8, 2]), { loss: 'mse', epochs: 1, batchSize: 4 });
await f.serve.closeWorkers();
console.log(JSON.stringify({ same: JSON.stringify(a) === JSON.stringify(want) && JSON.stringify(b) === JSON.stringify(want), epochs: r.history.history.loss.length }));
`;

describe('workers under the parent\'s --input-type', () => {
  it.each([['--input-type=module'], ['--input-type', 'module']])('%s -e: predictAsync, InferencePool and fitInWorker answer', (...flags) => {
    const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ same: true, epochs: 1 });
    expect(r.status).toBe(0);
  });
});
