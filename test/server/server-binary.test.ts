// The example service's binary bodies (examples/server/server.mjs, issue #13): `POST /predict` with
// content-type application/octet-stream takes N images of 784 bytes (pixels 0..255, scaled by 1/255) and
// answers as for JSON, checked row by row against model.predict here; a body whose length is not a whole
// number of images, an empty one, or more than 256 images gets a 400 naming what came; a body over 4 MiB
// (JSON or binary) a 413, and the connection then still serves. The server runs with a tiny untrained model
// file (Linear 784→10) on an ephemeral loopback port and imports the compiled package (dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, save, Tensor } from '../../lib/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

let dir: string;
let model: nn.Sequential;
let port: number;
let child: RunningServer['child'];
let exit: RunningServer['exit'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fathom-server-bin-'));
  const path = join(dir, 'tiny.safetensors');
  manualSeed(21);
  model = new nn.Sequential(new nn.Linear(784, 10));
  await save(model, path);
  ({ child, port, exit } = await startServer(path));
});
afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: Uint8Array<ArrayBuffer> | string, type: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: res.status, json: await res.json() };
}

/** softmax(model.predict(x)) row by row and each row's argmax. */
function expected(x: Tensor): { classes: number[]; probabilities: number[][] } {
  const y = model.predict(x);
  const classes: number[] = [], probabilities: number[][] = [];
  for (let i = 0; i < y.shape[0]; i++) {
    const row = Array.from(y.data.subarray(i * 10, (i + 1) * 10));
    const e = row.map((v) => Math.exp(v - Math.max(...row)));
    const s = e.reduce((a, b) => a + b, 0);
    probabilities.push(e.map((v) => v / s));
    classes.push(row.indexOf(Math.max(...row)));
  }
  return { classes, probabilities };
}

describe('examples/server: application/octet-stream bodies', () => {
  it('N images of 784 bytes: each row answered as model.predict on byte / 255 gives it', async () => {
    for (const n of [1, 3]) {
      const bytes = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37 + n * 11) % 256);
      const x = new Tensor(Float32Array.from(bytes, (b) => b / 255), [n, 784]);
      const want = expected(x);
      const got = await post(bytes, 'application/octet-stream');
      expect(got.status).toBe(200);
      expect(got.json.classes).toEqual(want.classes);
      got.json.probabilities.forEach((p: number[], i: number) => p.forEach((v, j) => expect(v).toBeCloseTo(want.probabilities[i][j], 6)));
      // The same pixels as JSON numbers give the same answer.
      const json = await post(JSON.stringify(Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * 784, (i + 1) * 784)))), 'application/json');
      expect(json.json.classes).toEqual(got.json.classes);
    }
  });

  it('400 for a length that is not whole images, an empty body, or more than 256 images; 413 past 4 MiB', async () => {
    const bad = async (len: number, message: RegExp): Promise<void> => {
      const r = await post(new Uint8Array(len), 'application/octet-stream');
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(message);
    };
    await bad(0, /an application\/octet-stream body must be 1 to 256 images of 784 bytes \(pixels 0\.\.255\), got 0 bytes/);
    await bad(783, /must be 1 to 256 images of 784 bytes .*got 783 bytes/);
    await bad(784 * 2 + 1, /got 1569 bytes/);
    await bad(784 * 257, /at most 256 images per request, got 257/);
    for (const type of ['application/octet-stream', 'application/json']) {
      const big = await post(new Uint8Array(4 * 2 ** 20 + 1), type);
      expect(big.status).toBe(413);
      expect(big.json.error).toMatch(/the body is over 4194304 bytes/);
    }
    const after = await post(new Uint8Array(784), 'application/octet-stream');
    expect(after.status).toBe(200);
    const st = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
    expect(st.requests).toMatchObject({ errors4xx: 6, predictions: 4 * 2 + 1 });
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
