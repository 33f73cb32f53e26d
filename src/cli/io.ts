import { ScenescopeError } from '../errors.js';

/** A usage error: bad arguments. The CLI prints it with a hint and exits 2. */
export class UsageError extends Error {}

/**
 * Print an error the CLI way and return the exit code: one line `scenescope: error [CODE]: message` (the stack
 * only with `debug`); 2 for usage errors and invalid options, 1 otherwise.
 */
export function reportError(io: { stderr: NodeJS.WritableStream }, error: unknown, debug: boolean): number {
  if (error instanceof UsageError) {
    io.stderr.write(`scenescope: ${error.message}\nRun "scenescope help" for usage.\n`);
    return 2;
  }
  if (error instanceof ScenescopeError) {
    io.stderr.write(`scenescope: error [${error.code}]: ${error.message}\n`);
    if (debug && error.stack) io.stderr.write(error.stack + '\n');
    return error.code === 'INVALID_OPTION' ? 2 : 1;
  }
  io.stderr.write(`scenescope: error [INTERNAL]: ${error instanceof Error ? error.message : String(error)}\n`);
  if (debug && error instanceof Error && error.stack) io.stderr.write(error.stack + '\n');
  return 1;
}

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
