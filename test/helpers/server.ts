// The example service (examples/server/server.mjs) as its tests start it: a child process on an ephemeral
// loopback port, resolved once it prints that port. The server imports the compiled package (dist/).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

export const SERVER = join(import.meta.dirname, '../../examples/server/server.mjs');

export interface RunningServer {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** What it printed so far (stdout and stderr, in order). */
  out: string[];
  exit: Promise<number | null>;
}

/** Starts the server with `modelPath` and `args` (FATHOM_BACKEND = backend when given); rejects with its output if it exits first. */
export function startServer(modelPath: string, args: string[] = [], backend?: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [SERVER, '--model', modelPath, '--port', '0', ...args], {
    env: backend === undefined ? process.env : { ...process.env, FATHOM_BACKEND: backend },
  });
  const out: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => out.push(s));
    child.stdout.on('data', (s: string) => {
      out.push(s);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out.join(''));
      if (m) resolve({ child, port: Number(m[1]), out, exit });
    });
    exit.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${out.join('')}`)));
  });
}
