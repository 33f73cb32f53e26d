/** What a CLI command writes to and reads from; injected so tests can run commands in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

/**
 * A progress bar on stderr when it is a terminal; nothing otherwise (progress never goes into stdout).
 * Returns the update function and a finisher that clears the line.
 */
export function progressBar(io: CliIO, enabled: boolean): { update(percent: number, label: string): void; done(): void } {
  const tty = enabled && io.stderr.isTTY === true;
  let shown = false;
  return {
    update(percent: number, label: string): void {
      if (!tty) return;
      const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 12));
      const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
      io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(0).padStart(3)}% ${label}\x1b[K`);
      shown = true;
    },
    done(): void {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}
