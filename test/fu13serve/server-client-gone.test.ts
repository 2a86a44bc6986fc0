// The example service (examples/server/server.mjs) as clients misbehave: a client that hangs up in the middle
// of its request body is neither a server error (no 500 counted, no stack logged) nor answered: /stats counts
// it as requests.clientGone. A binary body's content type is matched case-insensitively (RFC 9110: media
// types are), and POST /train refuses a body that is not a JSON object (an array or a string used to start a
// run). The server runs a tiny untrained model (Linear 784→10) on an ephemeral loopback port and imports the
// compiled package (dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, save, Tensor } from '../../lib/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

let dir: string;
let model: nn.Sequential;
let port: number;
let child: RunningServer['child'];
let printed: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fathom-fu13-server-'));
  const path = join(dir, 'tiny.safetensors');
  manualSeed(23);
  model = new nn.Sequential(new nn.Linear(784, 10));
  await save(model, path);
  ({ child, port, out: printed } = await startServer(path, ['--nice', '0']));
});
afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const stats = async (): Promise<any> => (await fetch(`http://127.0.0.1:${port}/stats`)).json();

describe('examples/server: clients that misbehave', () => {
  it('a client hanging up mid-body: counted as clientGone, not as a 5xx, and nothing is logged', async () => {
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 784\r\n\r\n');
        s.write(Buffer.alloc(100), () => { s.destroy(); resolve(); });
      });
      s.on('error', reject);
    });
    // The server sees the hang-up when it processes the socket's close: poll /stats until it has.
    let st = await stats();
    while ((st.requests.clientGone ?? 0) + st.requests.errors5xx === 0) {
      await new Promise((r) => setTimeout(r, 20));
      st = await stats();
    }
    expect(st.requests.errors5xx).toBe(0);
    expect(st.requests.clientGone).toBe(1);
    expect(printed.join("")).not.toMatch(/error:/);
    // The server still serves.
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
  });

  it('the binary content type in any letter case', async () => {
    const bytes = Uint8Array.from({ length: 784 }, (_, i) => (i * 13) % 256);
    const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: bytes, headers: { 'content-type': 'Application/Octet-Stream' } });
    expect(res.status).toBe(200);
    const y = model.predict(new Tensor(Float32Array.from(bytes, (b) => b / 255), [1, 784]));
    const row = Array.from(y.data);
    expect((await res.json()).classes).toEqual([row.indexOf(Math.max(...row))]);
  });

  it('POST /train with a body that is not a JSON object: 400, no run started', async () => {
    for (const body of ['[1]', '"x"', '7']) {
      const res = await fetch(`http://127.0.0.1:${port}/train`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/^the body must be empty or a JSON object \{ epochs \}, got /);
    }
    expect((await stats()).training.runs).toBe(0);
  });
});
