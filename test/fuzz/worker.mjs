// Fuzzer worker: runs calls [from, to) of one seed on the backend named by
// FATHOM_BACKEND, in this process, and reports each on stdout:
//   S <i> <area> <op> <args>        before the call (so a crash names it)
//   R <i> <outcome> <detail>        after it: ok | error | refused | garbage | bad-error
//   E                               when all calls are done
// The parent (fuzz.test.ts) turns a signal into a crash and silence into a
// hang. Run alone to replay calls:
//   FATHOM_BACKEND=ts node test/fuzz/worker.mjs ts <seed> <from> <to>
// (needs dist/: npx tsc -p tsconfig.json).
import { writeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rngFor, show } from './rng.mjs';
import { makeKernelCall } from './kernels.mjs';
import { makeApiCall } from './api.mjs';

const [backendName, seedArg, fromArg, toArg] = process.argv.slice(2);
const seed = Number(seedArg) >>> 0, from = Number(fromArg), to = Number(toArg);
const root = new URL('../../', import.meta.url);
const f = await import(new URL('dist/index.js', root).href);
const { getBackendByName } = await import(new URL('dist/backend/index.js', root).href);
const { loadBinding } = await import(new URL('dist/backend/native/binding.js', root).href);
f.setBackend(backendName);
const be = getBackendByName(backendName);
const binding = backendName === 'native' ? loadBinding().binding : null;
// The parent passes a folder it removes afterwards (a killed worker cannot clean up).
const ownTmp = !process.env.FATHOM_FUZZ_TMP;
const tmp = process.env.FATHOM_FUZZ_TMP || mkdtempSync(join(tmpdir(), 'fathom-fuzz-'));

const line = (s) => writeSync(1, s + '\n');
const tab = (...parts) => parts.map((p) => String(p).replace(/[\n\t]/g, ' ')).join('\t');
process.on('unhandledRejection', () => {}); // a call's stray promise must not end the run
process.on('uncaughtException', (e) => line(tab('X', String(e?.stack ?? e).slice(0, 300))));

/** Call i: a raw backend() kernel, the addon itself, or the public API. */
function makeCall(i) {
  const R = rngFor(seed, i);
  const r = R.next();
  const kernelShare = binding ? 0.3 : 0.45, bindingShare = binding ? 0.25 : 0;
  if (r < kernelShare) {
    const c = makeKernelCall(R, 'backend');
    return { area: 'kernels', ...c, run: () => be[c.name](...c.args) };
  }
  if (r < kernelShare + bindingShare) {
    const c = makeKernelCall(R, 'binding');
    return { area: 'binding', ...c, run: () => binding[c.name](...c.args) };
  }
  return makeApiCall(R, f, tmp);
}

const inject = new Map(
  (process.env.FATHOM_FUZZ_INJECT ?? '').split(',').filter(Boolean).map((e) => {
    const [what, at] = e.split('@');
    return [Number(at), what];
  }),
);

for (let i = from; i < to; i++) {
  let c;
  try {
    c = makeCall(i);
  } catch (e) {
    // Building the call itself threw (a valid tensor the generator needed was refused).
    line(tab('S', i, 'fuzzer', 'make', ''));
    line(tab('R', i, 'bad-error', `building the call threw: ${String(e?.message ?? e).slice(0, 300)}`));
    continue;
  }
  const summary = `${c.args.map((a) => show(a)).join(', ')}${c.mutation && c.mutation !== 'valid' ? `  [${c.mutation}]` : ''}  expect ${c.expect}`;
  line(tab('S', i, c.area, c.op, summary));
  // The harness's own test (fuzz.test.ts) injects a crash or a hang at a given call.
  if (inject.get(i) === 'crash') process.kill(process.pid, 'SIGSEGV');
  if (inject.get(i) === 'hang') for (;;);
  let outcome = 'ok', detail = '';
  try {
    const ret = await c.run();
    if (c.expect === 'invalid') {
      outcome = 'garbage';
      detail = `accepted invalid input, returned ${show(ret)}`;
    } else if (c.check) {
      const why = c.check(ret);
      if (why) { outcome = 'garbage'; detail = why; }
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : `a non-Error was thrown: ${show(e)}`;
    if (e instanceof Error && msg.startsWith('fathom')) {
      outcome = c.expect === 'valid' ? 'refused' : 'error';
      detail = msg.slice(0, 300);
    } else {
      outcome = 'bad-error';
      detail = `${e?.constructor?.name ?? typeof e}: ${msg.slice(0, 300)}`;
    }
  }
  line(tab('R', i, outcome, detail));
}
line('E');
if (ownTmp) rmSync(tmp, { recursive: true, force: true });
process.exit(0);
