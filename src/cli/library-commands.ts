/**
 * The library subcommands of `scenescope`: add, status, scenes, search, retry, cancel, worker, export.
 *
 * Every subcommand takes `--library <path or postgres:// URL>` anywhere on its line (default:
 * `SCENESCOPE_LIBRARY`, else the per-user data folder, see docs/library.md) and `--json` for machine output (one JSON document on stdout;
 * `worker --json` prints JSON lines). Human output is a table or key/value lines; progress bars go to stderr
 * and only when it is a terminal. Exit codes: 0 success, 1 a failed operation (or a failed job with
 * --wait), 2 a usage error.
 */
import { writeFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { hasCode, ScenescopeError } from '../errors.js';
import type { AnalysisPipeline } from '../jobs/pipeline.js';
import { openLibrary, type Library } from '../library/library.js';
import { defaultLibraryPath, isDatabaseUrl } from '../library/location.js';
import { EXPORT_FORMATS, type ExportFormat, type MediaUploadResult } from '../library/types.js';
import type { VideoAnalysisJobStatus, VideoScene } from '../types.js';
import { progressBar, reportError, UsageError, type CliIO } from './io.js';

/** The subcommands handled here. */
export const LIBRARY_COMMANDS = ['add', 'status', 'scenes', 'search', 'retry', 'cancel', 'worker', 'export'] as const;

/** Help text of the library subcommands (for the main help). */
export const LIBRARY_HELP = `Library commands (all accept --library <path|postgres://user@host:5432/db>, default $SCENESCOPE_LIBRARY or ~/.local/share/scenescope/library.db;
only add and worker create a library, the others fail with LIBRARY_NOT_FOUND where there is none):
  scenescope add <files|folders...> [--no-analyze] [--wait] [--copy] [--priority n] [--type full|scenes] [--chunk-seconds s] [--json]
  scenescope status [<job-or-media-id>] [--follow] [--json]
  scenescope scenes <media-id> [--limit n] [--offset n] [--json]
  scenescope search "<text>" [--limit n] [--media <id>]... [--any] [--json]
  scenescope search --similar <scene-id> [--limit n] [--json]
  scenescope retry <job-id> [--json]
  scenescope cancel <job-id> [--json]
  scenescope worker [--concurrency n] [--exit-when-idle] [--grace-ms n] [--lease-ms n] [--poll-ms n] [--chunk-seconds s] [--json]
  scenescope export <media-id> --format json|csv|edl|vtt [--output <file>]
--chunk-seconds: videos longer than this (default 600) are detected in chunks that every worker may decode; 0: never.
`;


type Io = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv };
type ArgSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean }>;
type Values = Record<string, string | boolean | string[] | undefined>;

const COMMON: ArgSpec = { library: { type: 'string' }, json: { type: 'boolean' }, debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

function parse(argv: string[], options: ArgSpec): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true, allowNegative: true } as Parameters<typeof parseArgs>[0]) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^.*?: /, ''));
  }
}

function integerArg(name: string, value: unknown, min: number, max: number): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new UsageError(`--${name} expects an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** The library named by --library or the environment: a file path (resolved) or a postgres:// URL (as given). */
function libraryPath(values: Values, io: Io): string {
  const given = values['library'];
  if (typeof given === 'string' && given !== '') return isDatabaseUrl(given) || /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : path.resolve(given);
  return defaultLibraryPath(io.env);
}


function json(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Left-aligned columns. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function statusLines(status: VideoAnalysisJobStatus): string {
  const rows: string[][] = [];
  for (const key of ['analysis_job_id', 'media_id', 'status', 'progress_percent', 'current_step', 'started_at', 'completed_at', 'estimated_completion_time', 'error_code', 'error_message', 'retry_count', 'max_retries'] as const) {
    const value = status[key];
    if (value === null) continue;
    rows.push([key, key === 'progress_percent' ? `${String(value)}%` : String(value)]);
  }
  return table(rows);
}

function sceneRow(scene: VideoScene): string[] {
  const text = [scene.description ?? '', scene.tags.length > 0 ? `[${scene.tags.join(', ')}]` : '', scene.visible_text ? `"${scene.visible_text.replace(/\s+/g, ' ')}"` : ''].filter(Boolean).join(' ');
  return [String(scene.scene_index), scene.time_range_formatted ?? `${scene.start_time.toFixed(3)}-${scene.end_time.toFixed(3)}`, scene.confidence_score === null ? '-' : scene.confidence_score.toFixed(2), text];
}

/**
 * Open the library for one command. Only `add` (and `worker`) create one: every other command on a path or
 * database without a library fails with LIBRARY_NOT_FOUND, so a mistyped --library is an error, not an empty
 * library.
 */
async function withLibrary<T>(values: Values, io: Io, fn: (library: Library) => Promise<T>, options: { create?: boolean; chunkSeconds?: number } = {}): Promise<T> {
  const library = await openLibrary({ path: libraryPath(values, io), workers: 0, create: options.create ?? false, ...(options.chunkSeconds !== undefined ? { chunkSeconds: options.chunkSeconds } : {}) });
  try {
    return await fn(library);
  } finally {
    await library.close();
  }
}

/** Wait for jobs, drawing one progress bar; returns the final statuses (failed ones included). */
async function waitAll(library: Library, jobIds: string[], io: Io, showBar: boolean): Promise<Map<string, VideoAnalysisJobStatus>> {
  const bar = progressBar(io as CliIO, showBar);
  const final = new Map<string, VideoAnalysisJobStatus>();
  let index = 0;
  for (const jobId of jobIds) {
    index++;
    const prefix = jobIds.length > 1 ? `[${index}/${jobIds.length}] ` : '';
    try {
      final.set(jobId, await library.videoAnalysis.waitForCompletion(jobId, { onProgress: (s) => bar.update(s.progress_percent, `${prefix}${s.current_step ?? s.status}`) }));
    } catch (error) {
      if (error instanceof ScenescopeError && error.code === 'JOB_FAILED') final.set(jobId, error.details.status as VideoAnalysisJobStatus);
      else {
        bar.done();
        throw error;
      }
    }
  }
  bar.done();
  return final;
}

async function addCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    analyze: { type: 'boolean', default: true },
    wait: { type: 'boolean' },
    copy: { type: 'boolean' },
    priority: { type: 'string' },
    type: { type: 'string' },
    concurrency: { type: 'string' },
    progress: { type: 'boolean', default: true },
    'chunk-seconds': { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('add needs at least one file or folder');
  const type = (values['type'] as string | undefined) ?? 'full';
  if (type !== 'full' && type !== 'scenes') throw new UsageError(`--type must be full or scenes, got ${JSON.stringify(type)}`);
  const priority = values['priority'] === undefined ? 0 : integerArg('priority', values['priority'], -1_000_000, 1_000_000);
  const concurrency = values['concurrency'] === undefined ? 1 : integerArg('concurrency', values['concurrency'], 1, 64);
  const analyze = values['analyze'] !== false;
  const wait = values['wait'] === true && analyze;
  const chunkSeconds = values['chunk-seconds'] === undefined ? undefined : integerArg('chunk-seconds', values['chunk-seconds'], 0, 86_400);
  const asJson = values['json'] === true;
  return withLibrary(values, io, async (library) => {
    const items: MediaUploadResult[] = [];
    const errors: Array<{ path: string; error_code: string; error_message: string }> = [];
    const options = { autoAnalyze: analyze, copy: values['copy'] === true, priority, analysisType: type as 'full' | 'scenes' };
    for (const given of positionals) {
      const target = path.resolve(given);
      try {
        const info = await stat(target).catch(() => null);
        if (info?.isDirectory() === true) {
          const batch = await library.media.uploadFolder(target, options);
          items.push(...batch.items);
          errors.push(...batch.errors);
        } else items.push(await library.media.upload(target, options));
      } catch (error) {
        if (!(error instanceof ScenescopeError)) throw error;
        errors.push({ path: target, error_code: error.code, error_message: error.message });
      }
    }
    for (const e of errors) io.stderr.write(`scenescope: error [${e.error_code}]: ${e.error_message}\n`);
    let statuses = new Map<string, VideoAnalysisJobStatus>();
    const jobIds = items.map((i) => i.analysis_job_id).filter((id): id is string => id !== null);
    if (wait && jobIds.length > 0) {
      library.startWorkers({ concurrency, jobIds });
      statuses = await waitAll(library, [...new Set(jobIds)], io, !asJson && values['progress'] !== false);
    }
    const rows = items.map((item) => {
      const status = item.analysis_job_id === null ? undefined : statuses.get(item.analysis_job_id);
      return {
        media_id: item.media_id,
        analysis_job_id: item.analysis_job_id,
        file_path: item.file_path,
        upload_status: item.upload_status,
        duplicate: item.duplicate,
        ...(item.error_code !== null ? { error_code: item.error_code, error_message: item.error_message } : {}),
        ...(status !== undefined ? { status: status.status, ...(status.error_code !== null ? { job_error_code: status.error_code, job_error_message: status.error_message } : {}) } : {}),
        ...(!wait && item.queue_position !== null ? { queue_position: item.queue_position, estimated_start_time: item.estimated_start_time } : {}),
      };
    });
    if (asJson) json(io, { items: rows, errors });
    else if (rows.length > 0) {
      io.stdout.write(
        table([
          ['MEDIA', 'JOB', wait ? 'STATUS' : 'UPLOAD', 'FILE'],
          ...rows.map((r) => [r.media_id, r.analysis_job_id ?? '-', (wait ? (r.status ?? '-') : r.upload_status) + (r.duplicate ? ' (duplicate)' : ''), r.file_path]),
        ]),
      );
      if (analyze && !wait && jobIds.length > 0) io.stderr.write('Queued. Run "scenescope worker" to analyse, or "scenescope status <id>" to follow.\n');
    }
    const failedJobs = [...statuses.values()].some((s) => s.status === 'failed');
    return errors.length > 0 || failedJobs ? 1 : 0;
  }, { create: true, ...(chunkSeconds !== undefined ? { chunkSeconds } : {}) });
}

async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { limit: { type: 'string' }, follow: { type: 'boolean', short: 'f' } });
  if (positionals.length > 1) throw new UsageError('status takes at most one job or media id');
  if (values['follow'] === true && positionals.length !== 1) throw new UsageError('status --follow takes one job or media id');
  return withLibrary(values, io, async (library) => {
    const id = positionals[0];
    if (id === undefined) {
      const limit = values['limit'] === undefined ? 20 : integerArg('limit', values['limit'], 1, 10_000);
      const jobs = await library.videoAnalysis.list({ limit });
      const workers = await library.workers();
      if (values['json'] === true) json(io, { items: jobs, workers: workers.map((w) => ({ worker_id: w.worker_id, host: w.host, pid: w.pid, concurrency: w.concurrency })) });
      else {
        io.stdout.write(table([['JOB', 'MEDIA', 'STATUS', 'PROGRESS', 'STEP'], ...jobs.map((j) => [j.analysis_job_id, j.media_id, j.status, `${j.progress_percent}%`, j.error_code !== null ? `[${j.error_code}] ${j.error_message ?? ''}` : (j.current_step ?? '')])]));
        io.stdout.write(`${workers.length} live worker${workers.length === 1 ? '' : 's'}\n`);
      }
      return 0;
    }
    const status = id.startsWith('med_') ? await library.videoAnalysis.getStatusByMedia(id) : await library.videoAnalysis.getStatus(id);
    if (values['follow'] === true) return followStatus(library, status, values['json'] === true, io);
    if (values['json'] === true) json(io, status);
    else io.stdout.write(statusLines(status));
    return 0;
  });
}

/**
 * `status --follow`: one line (or JSON line) per change until the job ends; 0 when it completed or was
 * cancelled, 1 when it failed. A server library pushes the changes (LISTEN/NOTIFY); SQLite is polled.
 */
async function followStatus(library: Library, first: VideoAnalysisJobStatus, asJson: boolean, io: Io): Promise<number> {
  const line = (s: VideoAnalysisJobStatus): void => {
    if (asJson) io.stdout.write(JSON.stringify(s) + '\n');
    else io.stdout.write(`${new Date().toISOString()} ${s.analysis_job_id} ${s.status} ${s.progress_percent}% ${s.error_code !== null ? `[${s.error_code}] ${s.error_message ?? ''}` : (s.current_step ?? '')}\n`);
  };
  try {
    // No stall timeout: following a queued job while no worker runs is a legitimate wait.
    await library.videoAnalysis.waitForCompletion(first.analysis_job_id, { onProgress: line, timeoutMs: 2 ** 31 - 1, stallTimeoutMs: 2 ** 31 - 1, maxPollIntervalMs: 2000 });
    return 0;
  } catch (error) {
    if (hasCode(error, 'JOB_FAILED')) return 1;
    throw error;
  }
}

async function scenesCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { limit: { type: 'string' }, offset: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('scenes takes one media id');
  const limit = values['limit'] === undefined ? 10_000 : integerArg('limit', values['limit'], 1, 10_000);
  const offset = values['offset'] === undefined ? 0 : integerArg('offset', values['offset'], 0, Number.MAX_SAFE_INTEGER);
  return withLibrary(values, io, async (library) => {
    const list = await library.videoScenes.list(positionals[0]!, { limit, offset });
    if (values['json'] === true) json(io, list);
    else if (list.total_count === 0) {
      const status = await library.videoAnalysis.getStatusByMedia(positionals[0]!).catch(() => null);
      io.stdout.write(`No scenes${status === null ? ' (not analysed; run "scenescope add" or queue it)' : ` (analysis ${status.status}${status.status === 'completed' ? '' : `, ${status.progress_percent}%`})`}\n`);
    } else io.stdout.write(table([['#', 'TIME', 'CONF', 'DESCRIPTION'], ...list.items.map(sceneRow)]) + `${list.total_count} scene${list.total_count === 1 ? '' : 's'}\n`);
    return 0;
  });
}

async function searchCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { limit: { type: 'string' }, media: { type: 'string', multiple: true }, any: { type: 'boolean' }, similar: { type: 'string' } });
  const limit = values['limit'] === undefined ? undefined : integerArg('limit', values['limit'], 1, 1000);
  const mediaIds = values['media'] as string[] | undefined;
  return withLibrary(values, io, async (library) => {
    if (values['similar'] !== undefined) {
      if (positionals.length > 0) throw new UsageError('search --similar takes a scene id and no text');
      const result = await library.search.similar(values['similar'] as string, { ...(limit ? { limit } : {}), ...(mediaIds ? { mediaIds } : {}) });
      if (values['json'] === true) json(io, result);
      else io.stdout.write(table([['SCORE', 'VIDEO', '#', 'TIME', 'DESCRIPTION'], ...result.items.map((s) => [s.score.toFixed(3), s.video_id, String(s.scene_index), s.time_range_formatted ?? '', s.description ?? ''])]));
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('search needs the text to look for');
    const result = await library.search.scenes(positionals.join(' '), { ...(limit ? { limit } : {}), ...(mediaIds ? { mediaIds } : {}), match: values['any'] === true ? 'any' : 'all' });
    if (values['json'] === true) json(io, result);
    else {
      for (const group of result.items) {
        io.stdout.write(`${group.video_id}  ${group.file_name}\n`);
        for (const hit of group.scenes) {
          const time = hit.time_range_formatted ?? `${hit.start_time.toFixed(3)}-${hit.end_time.toFixed(3)}`;
          const highlight = hit.highlight.replace(/\s+/g, ' ');
          const text = hit.description === null ? highlight : highlight.replace(/[[\]]/g, '') === hit.description ? highlight : `${hit.description} (${highlight})`;
          io.stdout.write(`  #${hit.scene_index}  ${time}  ${text}\n`);
        }
      }
      io.stdout.write(`${result.total_count} matching scene${result.total_count === 1 ? '' : 's'}\n`);
    }
    return 0;
  });
}

async function retryCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {});
  if (positionals.length !== 1) throw new UsageError('retry takes one job id');
  return withLibrary(values, io, async (library) => {
    const result = await library.videoAnalysis.retry(positionals[0]!);
    if (values['json'] === true) json(io, result);
    else io.stdout.write(`${result.analysis_job_id}: ${result.message}\n`);
    return 0;
  });
}

async function cancelCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {});
  if (positionals.length !== 1) throw new UsageError('cancel takes one job id');
  return withLibrary(values, io, async (library) => {
    const status = await library.videoAnalysis.cancel(positionals[0]!);
    if (values['json'] === true) json(io, status);
    else io.stdout.write(`${status.analysis_job_id}: ${status.status}\n`);
    return 0;
  });
}

async function exportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('export takes one media id');
  const format = (values['format'] as string | undefined) ?? 'json';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  return withLibrary(values, io, async (library) => {
    const text = await library.exportScenes(positionals[0]!, format as ExportFormat);
    if (typeof values['output'] === 'string') await writeFile(values['output'], text);
    else io.stdout.write(text);
    return 0;
  });
}

async function loadPipeline(modulePath: string): Promise<AnalysisPipeline> {
  const mod = (await import(pathToFileURL(path.resolve(modulePath)).href)) as { default?: unknown; pipeline?: unknown };
  const candidate = (mod.pipeline ?? mod.default) as AnalysisPipeline | undefined;
  if (candidate === undefined || !Array.isArray(candidate.steps) || typeof candidate.run !== 'function') {
    throw new UsageError(`--pipeline ${modulePath} must export an AnalysisPipeline ({ steps, run }) as default or "pipeline"`);
  }
  return candidate;
}

async function workerCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    concurrency: { type: 'string' },
    'exit-when-idle': { type: 'boolean' },
    'grace-ms': { type: 'string' },
    'lease-ms': { type: 'string' },
    'poll-ms': { type: 'string' },
    pipeline: { type: 'string' },
    'chunk-seconds': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('worker takes no arguments');
  const concurrency = values['concurrency'] === undefined ? 1 : integerArg('concurrency', values['concurrency'], 1, 64);
  const graceMs = values['grace-ms'] === undefined ? 10_000 : integerArg('grace-ms', values['grace-ms'], 0, 3_600_000);
  const leaseMs = values['lease-ms'] === undefined ? undefined : integerArg('lease-ms', values['lease-ms'], 400, 3_600_000);
  const pollMs = values['poll-ms'] === undefined ? undefined : integerArg('poll-ms', values['poll-ms'], 10, 60_000);
  const chunkSeconds = values['chunk-seconds'] === undefined ? undefined : integerArg('chunk-seconds', values['chunk-seconds'], 0, 86_400);
  const pipeline = typeof values['pipeline'] === 'string' ? await loadPipeline(values['pipeline']) : undefined;
  const asJson = values['json'] === true;
  const log = (event: Record<string, unknown>, text: string): void => {
    if (asJson) io.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
    else io.stderr.write(`${new Date().toISOString()} ${text}\n`);
  };
  const library = await openLibrary({
    path: libraryPath(values, io),
    workers: 0,
    // A worker may start before anything is added, so it creates the library (add's twin).
    create: true,
    ...(pipeline ? { pipeline } : {}),
    ...(leaseMs !== undefined ? { leaseMs } : {}),
    ...(pollMs !== undefined ? { pollMs } : {}),
    ...(chunkSeconds !== undefined ? { chunkSeconds } : {}),
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    let exitCode = 0;
    // A stray rejection inside one job must not kill a worker that runs others (their leases would have to
    // expire before anyone resumed them): log it and go on.
    const onStray = (reason: unknown): void => log({ event: 'error', message: `unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}` }, `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    process.on('unhandledRejection', onStray);
    const stop = (reason: string, grace: number): void => {
      if (stopping) return;
      stopping = true;
      process.removeListener('SIGTERM', onTerm);
      process.removeListener('SIGINT', onTerm);
      // A second signal during the grace period stops at once: the running jobs' leases expire and another
      // worker resumes them (their ffmpeg processes die on the closed pipe).
      const force = (): void => {
        log({ event: 'forced' }, 'second signal: exiting now');
        process.exit(130);
      };
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      log({ event: 'stopping', reason, grace_ms: grace }, `stopping (${reason}); running jobs checkpoint within ${grace} ms`);
      // A --pipeline module is this process's to release (its models and threads would keep it alive).
      library.close({ graceMs: grace }).then(() => pipeline?.close?.()).then(
        () => {
          process.removeListener('SIGTERM', force);
          process.removeListener('SIGINT', force);
          log({ event: 'stopped' }, 'stopped');
          process.removeListener('unhandledRejection', onStray);
          resolve(exitCode);
        },
        (error: unknown) => resolve(reportError(io, error, values['debug'] === true)),
      );
    };
    const onTerm = (signal: NodeJS.Signals): void => stop(signal, graceMs);
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onTerm);
    library.on('job', (e) => log({ event: e.outcome, analysis_job_id: e.analysis_job_id, media_id: e.media_id, error_code: e.error_code }, `${e.analysis_job_id} ${e.outcome}${e.error_code ? ` [${e.error_code}] ${e.error_message ?? ''}` : ''}`));
    library.on('chunk', (e) => log({ event: 'chunk', analysis_job_id: e.analysis_job_id, media_id: e.media_id, chunk_index: e.chunk_index, kind: e.kind, outcome: e.outcome, duration_ms: e.duration_ms }, `${e.analysis_job_id} ${e.kind} chunk ${e.chunk_index} ${e.outcome} (${e.duration_ms} ms)`));
    library.on('error', (error) => {
      log({ event: 'error', ...(error instanceof ScenescopeError ? { error_code: error.code } : {}), message: error instanceof Error ? error.message : String(error) }, `error: ${error instanceof Error ? error.message : String(error)}`);
      // The library file was deleted or replaced: every later result would be lost. Stop, and say so.
      if (hasCode(error, 'LIBRARY_GONE') && !stopping) {
        exitCode = 1;
        io.stderr.write(`scenescope: error [LIBRARY_GONE]: ${(error as Error).message}\n`);
        stop('library gone', 0);
      }
    });
    library.startWorkers({
      concurrency,
      keepAlive: true,
      ...(values['exit-when-idle'] === true ? { onIdle: () => stop('idle', 0) } : {}),
    });
    log({ event: 'started', pid: process.pid, concurrency, library: library.path }, `worker ${process.pid} started on ${library.path} (concurrency ${concurrency})`);
  });
}

/**
 * Run one library subcommand. `name` is one of {@link LIBRARY_COMMANDS}; `argv` the rest of the line.
 * Resolves to the exit code (0 ok, 1 failed, 2 usage). Never throws.
 */
export async function runLibraryCommand(name: string, argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug') || io.env['SCENESCOPE_DEBUG'] === '1';
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(LIBRARY_HELP);
      return 0;
    }
    switch (name) {
      case 'add':
        return await addCommand(argv, io);
      case 'status':
        return await statusCommand(argv, io);
      case 'scenes':
        return await scenesCommand(argv, io);
      case 'search':
        return await searchCommand(argv, io);
      case 'retry':
        return await retryCommand(argv, io);
      case 'cancel':
        return await cancelCommand(argv, io);
      case 'worker':
        return await workerCommand(argv, io);
      case 'export':
        return await exportCommand(argv, io);
      default:
        throw new UsageError(`unknown library command "${name}"`);
    }
  } catch (error) {
    return reportError(io, error, debug);
  }
}
