/**
 * Write a whole file or none: through a temporary name in the same folder, renamed over the target once
 * written, so a reader (a resumed step, another process) never sees half a file. A full disk is the user's to
 * fix, not a bug: it rejects with the code `DISK_FULL`.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { ScenescopeError } from '../errors.js';

/** Write `bytes` to `file` through a temporary name (see the module header); `what` names it in errors. */
export async function writeFileAtomic(file: string, bytes: Uint8Array, what = file): Promise<void> {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw diskFullOr(error, what);
  }
}

/** `error` as a `DISK_FULL` ScenescopeError when the disk (or quota) is full, else unchanged. */
export function diskFullOr(error: unknown, what: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new ScenescopeError('DISK_FULL', `No space left to write ${what}`, { cause: error }) : error;
}
