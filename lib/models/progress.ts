/** Progress output for fit(): a redrawn bar on a TTY, one line per epoch otherwise. */

export interface ProgressSink {
  batch(epoch: number, done: number, total: number, loss: number): void;
  epoch(epoch: number, epochs: number, logs: Record<string, number>, seconds: number, samples: number): void;
}

function fmtLogs(logs: Record<string, number>): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k} ${k.toLowerCase().includes('accuracy') ? (v * 100).toFixed(2) + '%' : k === 'lr' ? v.toPrecision(3) : v.toFixed(4)}`)
    .join(' · ');
}

/** Where progress is written: process.stderr or any stream-like object (structural, so the published types need no @types/node). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export function consoleProgress(stream: ProgressStream = process.stderr, epochs = 1): ProgressSink {
  const tty = !!stream.isTTY;
  let lastDraw = 0;
  return {
    batch(epoch, done, total, loss) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r\x1b[2Kepoch ${epoch + 1}/${epochs} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} loss ${loss.toFixed(4)}`);
    },
    epoch(epoch, total, logs, seconds, samples) {
      const line = `epoch ${epoch + 1}/${total} · ${fmtLogs(logs)} · ${seconds.toFixed(1)} s · ${Math.round(samples / seconds)} samples/s`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
