/**
 * `models fetch`: download model files from the manifest's addresses on a connected machine.
 *
 * Each file is downloaded into `<modelsDir>/<dir>/<name>.part`. An interrupted download (dropped connection,
 * stall, Ctrl-C) leaves the `.part` file behind and the next attempt asks the server for the rest with an HTTP
 * Range request; a server that ignores Range (200 instead of 206) makes the download start over. Once complete
 * the file is checked against the manifest's size and sha256 and only then renamed to its final name (atomic on
 * one filesystem). A file that fails verification is deleted, `.part` included, so bad bytes are never resumed.
 *
 * A mirror (an internal web server, or the tests' server on 127.0.0.1) replaces every address with
 * `<baseUrl>/<dir>/<name>`: the layout of the models folder itself, so any models folder served over HTTP is a
 * mirror.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { mkdir, open, rename, rm, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AbortError, ModelError, throwIfAborted } from '../errors.js';
import { finishReport, mismatch, selectEntries, type CommonInstallOptions, type FileAction, type InstallReport } from './install.js';
import { checkFile, defaultModelsDir, loadManifest, modelDir, type ModelEntry, type ModelFile } from './registry.js';

/** Options of {@link fetchModels}. */
export interface FetchOptions extends CommonInstallOptions {
  /**
   * Mirror base address: every file is fetched from `<baseUrl>/<dir>/<name>` instead of its manifest address.
   * Default: `SCENESCOPE_MODELS_BASE_URL` from `env`, else the manifest addresses.
   */
  baseUrl?: string;
  /** Environment for `SCENESCOPE_MODELS_BASE_URL` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Attempts per file, resuming each time (default 3). */
  attempts?: number;
  /** Abort an attempt when no byte arrives for this long (default 60 000 ms). */
  stallTimeoutMs?: number;
  /** The fetch implementation (default the global one); for tests and proxies. */
  fetch?: typeof globalThis.fetch;
}

/** Address a file is fetched from. */
export function downloadUrl(entry: ModelEntry, file: ModelFile, baseUrl: string | undefined): string {
  if (baseUrl === undefined || baseUrl === '') return file.url;
  return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(entry.dir ?? entry.id)}/${encodeURIComponent(file.name)}`;
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, signal === undefined ? {} : { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Thrown for failures that retrying cannot fix (HTTP 4xx, verification). */
class PermanentError extends ModelError {
  override name = 'ModelError';
}

/**
 * One attempt: request the rest of the file (Range when `.part` has bytes), append to `.part`.
 * Resolves when the server says the body is complete; rejects on network errors, stalls and bad statuses.
 */
async function attempt(url: string, part: string, file: ModelFile, options: FetchOptions, report: (done: number, total: number | undefined) => void): Promise<void> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let have = size(part);
  if (file.bytes !== undefined && have > file.bytes) {
    await rm(part, { force: true });
    have = 0;
  }
  const controller = new AbortController();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new Error(`no data for ${stallMs} ms`));
    }, stallMs);
  };
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  arm();
  try {
    const headers: Record<string, string> = { 'user-agent': 'scenescope-models-fetch' };
    if (have > 0) headers.range = `bytes=${have}-`;
    const response = await doFetch(url, { headers, redirect: 'follow', signal: controller.signal });
    if (response.status === 416 && have > 0) {
      // The .part file may already hold everything; verification decides.
      await response.body?.cancel();
      return;
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      const error = `HTTP ${response.status}${response.statusText === '' ? '' : ' ' + response.statusText} from ${url}`;
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        throw new PermanentError('MODEL_UNAVAILABLE', `Download of ${file.name} failed: ${error}`, { details: { url, status: response.status } });
      }
      throw new Error(error);
    }
    let offset = 0;
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      offset = range === null ? -1 : Number(range[1]);
      if (offset !== have) {
        // Not the range we asked for: start over rather than splice bytes in the wrong place.
        await response.body?.cancel();
        await rm(part, { force: true });
        throw new Error(`server answered range ${response.headers.get('content-range') ?? '(none)'} to bytes=${have}-`);
      }
    } else if (have > 0) {
      await truncate(part, 0);
      have = 0;
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? offset + length : file.bytes;
    if (response.body === null) throw new Error(`empty response from ${url}`);
    const handle = await open(part, have > 0 ? 'a' : 'w');
    let done = have;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        await handle.write(chunk);
        done += chunk.length;
        if (file.bytes !== undefined && done > file.bytes) {
          throw new PermanentError('MODEL_UNAVAILABLE', `Download of ${file.name} is larger than the ${file.bytes} bytes the manifest expects (${url})`, { details: { url } });
        }
        report(done, total);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (Number.isFinite(length) && done !== offset + length) throw new Error(`connection closed after ${done} of ${offset + length} bytes`);
  } catch (error) {
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason });
    if (stalled) throw new Error(`download of ${file.name} stalled: no data for ${stallMs} ms`, { cause: error });
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Download one file with resume and verification, into `destination` (atomic rename).
 * @returns bytes of the installed file.
 * @throws ModelError MODEL_UNAVAILABLE (HTTP 4xx, attempts exhausted, verification failed); AbortError.
 */
export async function downloadFile(url: string, destination: string, file: ModelFile, options: FetchOptions = {}, report: (done: number, total: number | undefined) => void = () => undefined): Promise<number> {
  const part = `${destination}.part`;
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    throwIfAborted(options.signal);
    try {
      await attempt(url, part, file, options, report);
      lastError = undefined;
      break;
    } catch (error) {
      if (error instanceof AbortError || error instanceof PermanentError) throw error;
      lastError = error;
    }
  }
  if (lastError !== undefined) {
    throw new ModelError('MODEL_UNAVAILABLE', `Download of ${file.name} failed after ${attempts} attempts: ${(lastError as Error).message}; run fetch again to resume (${part})`, {
      cause: lastError,
      details: { url, part },
    });
  }
  const bytes = size(part);
  const bad = mismatch(file, bytes, await sha256Of(part, options.signal));
  if (bad !== undefined) {
    await rm(part, { force: true });
    throw new ModelError('MODEL_UNAVAILABLE', `${bad} (downloaded from ${url}); not installed`, { details: { url } });
  }
  await rename(part, destination);
  return bytes;
}

/**
 * Download the selected models' files from their official addresses (or a mirror), resuming interrupted downloads
 * and verifying every file before it is installed. Files already installed and verified are skipped. Derived files
 * (no official download, see `ModelFile.derived`) are reported `not-found` unless a mirror is used. Optional files
 * are fetched only with `includeOptional`.
 * @throws ModelError MODEL_UNAVAILABLE for an unknown id; AbortError. Download failures are reported per file.
 */
export async function fetchModels(options: FetchOptions = {}): Promise<InstallReport> {
  const modelsDir = resolve(options.modelsDir ?? defaultModelsDir(options.env));
  const entries = selectEntries(options.manifest ?? loadManifest(), options.ids);
  const envBase = (options.env ?? process.env).SCENESCOPE_MODELS_BASE_URL;
  const baseUrl = options.baseUrl ?? (envBase === '' ? undefined : envBase);
  const actions: FileAction[] = [];
  for (const entry of entries) {
    const dir = modelDir(modelsDir, entry);
    for (const file of entry.files) {
      throwIfAborted(options.signal);
      if (file.optional === true && options.includeOptional !== true) continue;
      const destination = join(dir, file.name);
      const current = await checkFile(destination, file, true, options.signal);
      if (current.state === 'ok' || (current.state === 'unverified' && file.sha256 === '')) {
        actions.push({ id: entry.id, file: file.name, action: 'present' });
        continue;
      }
      if (file.derived !== undefined && baseUrl === undefined) {
        actions.push({ id: entry.id, file: file.name, action: 'not-found', reason: `${file.name} has no official download: ${file.derived}` });
        continue;
      }
      const url = downloadUrl(entry, file, baseUrl);
      try {
        await mkdir(dir, { recursive: true });
        if (current.state === 'corrupt') await rm(destination, { force: true });
        const bytes = await downloadFile(url, destination, file, options, (done, total) => options.onProgress?.({ id: entry.id, file: file.name, done, total }));
        actions.push({ id: entry.id, file: file.name, action: 'installed', bytes });
      } catch (error) {
        if (error instanceof AbortError) throw error;
        actions.push({ id: entry.id, file: file.name, action: 'failed', reason: (error as Error).message });
      }
    }
  }
  return finishReport(modelsDir, entries, actions, options.ids !== undefined && options.ids.length > 0, options.signal);
}
