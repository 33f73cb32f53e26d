/**
 * What every CLI command shares: the one error format (`scenescope: error [CODE]: message`), the exit codes
 * (0 success, 1 failure, 2 usage, 130 interrupted), safe output (temp file then rename; stdout write errors such
 * as EPIPE or ENOSPC become one error line) and the progress bar.
 */
import { rename, unlink, writeFile } from 'node:fs/promises';
import { ScenescopeError } from '../errors.js';

/** Exit codes of the `scenescope` command. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, INTERRUPTED: 130 } as const;

/** A usage error: bad arguments. The CLI prints it with a pointer to the command's help and exits 2. */
export class UsageError extends ScenescopeError {
  override name = 'UsageError';
  /** The command whose help the message points to, when known. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super('USAGE', message);
    this.command = command;
  }
}

/** Node's errno codes that mean "the output could not be written". */
const OUTPUT_ERRNOS = new Set(['EPIPE', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOENT', 'EBADF', 'EIO', 'EFBIG', 'ERR_STREAM_DESTROYED']);

/** Wrap a failed write of `target` as OUTPUT_FAILED (other errors pass through). */
export function outputError(error: unknown, target: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof ScenescopeError || code === undefined || !OUTPUT_ERRNOS.has(code)) return error;
  const why = code === 'EPIPE' ? 'the reader closed the pipe' : code === 'ENOSPC' ? 'no space left on device' : (error as Error).message;
  return new ScenescopeError('OUTPUT_FAILED', `Cannot write ${target}: ${why} (${code})`, { cause: error, details: { target, errno: code } });
}

/**
 * Print an error the CLI way and return the exit code: one line `scenescope: error [CODE]: message` (the stack
 * and causes only with `debug`); 2 for usage errors and invalid options, 130 when interrupted, 1 otherwise.
 */
export function reportError(io: { stderr: { write(chunk: string): unknown } }, error: unknown, debug: boolean, options: { interrupted?: boolean; command?: string } = {}): number {
  const write = (text: string): void => {
    try {
      io.stderr.write(text);
    } catch {
      // stderr itself is gone: nothing left to tell.
    }
  };
  if (options.interrupted === true) {
    write('scenescope: error [ABORTED]: interrupted\n');
    return EXIT.INTERRUPTED;
  }
  if (error instanceof ScenescopeError) {
    write(`scenescope: error [${error.code}]: ${error.message}${rootCause(error)}\n`);
    if (error.code === 'USAGE' || error.code === 'INVALID_OPTION') {
      const command = error instanceof UsageError && error.command !== undefined ? error.command : options.command;
      if (!debug) write(`Run "scenescope ${command !== undefined ? `${command} --help` : 'help'}" for usage.\n`);
    }
    if (debug) writeDebug(write, error);
    return error.code === 'USAGE' || error.code === 'INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILURE;
  }
  write(`scenescope: error [INTERNAL]: ${error instanceof Error ? error.message : String(error)}\n`);
  if (debug) writeDebug(write, error);
  return EXIT.FAILURE;
}

/**
 * ` (cause: ...)` naming the innermost cause when the message does not already say it, so "fetch failed" shows
 * the DNS or connection error behind it.
 */
function rootCause(error: Error): string {
  let deepest: unknown = error.cause;
  for (let depth = 0; deepest instanceof Error && deepest.cause instanceof Error && depth < 8; depth++) deepest = deepest.cause;
  if (!(deepest instanceof Error) || deepest.message === '' || error.message.includes(deepest.message)) return '';
  // A file error (ENOENT on a path) is already told by the message, which names the file.
  if ((deepest as NodeJS.ErrnoException).path !== undefined) return '';
  const code = (deepest as NodeJS.ErrnoException).code;
  if (code !== undefined && error.message.includes(code)) return '';
  return ` (cause: ${code !== undefined && !deepest.message.includes(code) ? `${code} ` : ''}${deepest.message})`;
}

function writeDebug(write: (text: string) => void, error: unknown): void {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (depth > 0) write(`caused by: ${current instanceof Error ? `${current.name}: ${current.message}` : String(current)}\n`);
    if (current instanceof Error && current.stack) write(current.stack + '\n');
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** What a CLI command writes to and reads from; injected so tests can run commands in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

const guarded = new WeakSet<object>();

/** Write `text` to stdout and wait until it is written; EPIPE / ENOSPC reject as OUTPUT_FAILED. */
export function writeStdout(io: CliIO, text: string): Promise<void> {
  // A failed write also emits 'error' on a later tick; without a listener Node would crash with "Unhandled
  // 'error' event" after the one error line was printed.
  if (!guarded.has(io.stdout)) {
    guarded.add(io.stdout);
    io.stdout.on('error', () => undefined);
  }
  return new Promise((resolve, reject) => {
    const onError = (error: unknown): void => reject(outputError(error, 'standard output'));
    io.stdout.once('error', onError);
    try {
      io.stdout.write(text, (error) => {
        io.stdout.removeListener('error', onError);
        if (error) reject(outputError(error, 'standard output'));
        else resolve();
      });
    } catch (error) {
      io.stdout.removeListener('error', onError);
      reject(outputError(error, 'standard output'));
    }
  });
}

/**
 * Write a file safely: into `<file>.<pid>.tmp` beside it, then rename over it, so a failure (full disk,
 * interrupted run) never truncates an existing file and never leaves the temp file behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw outputError(error, file);
  }
}

/** Seconds as "1m05s" / "12s" for ETAs. */
function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A progress bar handle: update it, then clear it with done(). */
export interface ProgressBar {
  /** Show `percent` (0..100) with a label; `units` (frames, scenes) done so far gives the rate. */
  update(percent: number, label: string, units?: { done: number; name: string }): void;
  /** Clear the line. */
  done(): void;
}

/**
 * A progress bar on stderr when it is a terminal; nothing otherwise (progress never goes into stdout). Shows
 * the rate (frames/s, scenes/s) when known and an ETA from the overall pace. While it is shown, other writes to
 * the process's stdout/stderr (a library's own messages) are held back and printed after the bar is cleared, so
 * nothing breaks into the bar.
 */
export function progressBar(io: CliIO, enabled: boolean, now: () => number = Date.now): ProgressBar {
  const tty = enabled && io.stderr.isTTY === true;
  let shown = false;
  const started = now();
  let lastDraw = 0;
  let restore: (() => void) | undefined;
  const held: { chunk: unknown }[] = [];
  const raw = io.stderr.write.bind(io.stderr) as (chunk: string) => boolean;
  const hold = (): void => {
    if (restore !== undefined || io.stderr !== process.stderr) return;
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((s) => s.write);
    streams.forEach((stream) => {
      stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
        held.push({ chunk });
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof stream.write;
    });
    restore = (): void => {
      streams.forEach((s, i) => (s.write = originals[i]!));
      restore = undefined;
      // Held output goes to stderr even when it was meant for stdout: stdout carries only the result.
      for (const { chunk } of held.splice(0)) process.stderr.write(chunk as string);
    };
  };
  return {
    update(percent, label, units): void {
      if (!tty) return;
      const t = now();
      if (t - lastDraw < 100 && percent < 100) return;
      lastDraw = t;
      const elapsed = (t - started) / 1000;
      const p = Math.max(0, Math.min(100, percent));
      const parts: string[] = [];
      if (units !== undefined && elapsed > 0.5 && units.done > 0) parts.push(`${(units.done / elapsed).toFixed(units.done / elapsed >= 10 ? 0 : 1)} ${units.name}/s`);
      if (elapsed > 1 && p > 1 && p < 100) parts.push(`ETA ${shortDuration((elapsed * (100 - p)) / p)}`);
      const tail = parts.length > 0 ? ` (${parts.join(', ')})` : '';
      const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - tail.length - 12));
      const filled = Math.round((p / 100) * width);
      hold();
      raw(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.toFixed(0).padStart(3)}% ${label}${tail}\x1b[K`);
      shown = true;
    },
    done(): void {
      if (shown) raw('\r\x1b[K');
      shown = false;
      restore?.();
    },
  };
}
