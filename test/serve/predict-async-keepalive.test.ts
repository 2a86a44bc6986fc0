// predictAsync under the worker cap: a model waiting for a slot held by a worker still starting, whose only
// request was just cancelled, must keep the process alive until it is answered (a fresh user's script
// ended with exit code 13, its last await never settled: the starting worker was unref'd and could not be
// evicted yet). Runs this checkout's dist/ in a child process, as a script would.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const script = `
import { nn, randn, serve } from ${JSON.stringify(dist)};
serve.setMaxPredictWorkers(1);
const a = new nn.Sequential(new nn.Linear(8, 4));
const b = new nn.Sequential(new nn.Linear(8, 4));
const ac = new AbortController();
const pa = a.predictAsync(randn([1, 8]), { signal: ac.signal }).catch(() => 'a cancelled');
ac.abort();
console.log(await pa);
const x = randn([1, 8]);
const y = await b.predictAsync(x);
console.log('b answered', JSON.stringify(y.shape), Array.from(y.data).join() === Array.from(b.predict(x).data).join());
`;

describe('predictAsync keeps the process alive for a model waiting at the cap', () => {
  it('a cancelled call on a starting worker, then another model\'s call: answered, exit 0', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['a cancelled', 'b answered [1,4] true']);
    expect(r.status).toBe(0);
  });
});
