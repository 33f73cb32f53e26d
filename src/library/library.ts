/**
 * openLibrary(): the media library. One SQLite file (plus `<name>.assets/` for thumbnails, posters and copied
 * files) holds every file record, analysis job and scene; the API mirrors the hosted service
 * (media / videoAnalysis / videoScenes / search), and jobs run either here (`workers`, default 1) or in any
 * number of `scenescope worker` processes sharing the file. With a `postgres://` URL (`database`, `path` or
 * `SCENESCOPE_LIBRARY`) the same library lives in a PostgreSQL database shared by workers on many hosts.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { JobError, OptionError, StoreError } from '../errors.js';
import { createDefaultPipeline, resolveChunkSeconds } from '../jobs/default-pipeline.js';
import type { AnalysisPipeline } from '../jobs/pipeline.js';
import { JobRunner, type RunnerEvent } from '../jobs/runner.js';
import type { LibraryStore, WorkerRecord } from '../store/types.js';
import { bool, integerIn, numberIn, oneOf, opt, plainOptions, string } from '../util/validate.js';
import { VideoAnalysisApi } from './analysis.js';
import type { LibraryContext } from './context.js';
import { exportCsv, exportEdl, exportJson, exportVtt, type ExportInput } from './export.js';
import { redactUrl } from '../store/pg-url.js';
import { assetsDirFor, defaultLibraryPath, libraryLocation, serverAssetsDir, type LibraryLocation } from './location.js';
import { MediaApi } from './media.js';
import { toLibraryScene } from './records.js';
import { SearchApi, VideoScenesApi } from './scenes.js';
import { EXPORT_FORMATS, type ExportFormat, type LibraryEvents, type LibraryOptions } from './types.js';

const OPTION_KEYS = ['path', 'database', 'create', 'store', 'assetsDir', 'workers', 'pipeline', 'maxRetries', 'leaseMs', 'heartbeatMs', 'pollMs', 'busyTimeoutMs', 'ffmpegPath', 'ffprobePath', 'chunkSeconds', 'maxFrames', 'timeLimitMs'] as const;

interface ResolvedLibraryOptions {
  /** The SQLite file, or the server URL without its password. */
  path: string;
  location: LibraryLocation | null;
  create: boolean;
  store: LibraryStore | undefined;
  assetsDir: string | undefined;
  workers: number;
  pipeline: AnalysisPipeline | undefined;
  maxRetries: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  busyTimeoutMs: number;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  chunkSeconds: number;
  maxFrames: number | undefined;
  timeLimitMs: number | undefined;
}

function resolveLibraryOptions(input: unknown): ResolvedLibraryOptions {
  const o = plainOptions('openLibrary options', input, OPTION_KEYS);
  const pipeline = o.pipeline;
  if (pipeline !== undefined && (pipeline === null || typeof pipeline !== 'object' || !Array.isArray((pipeline as AnalysisPipeline).steps) || typeof (pipeline as AnalysisPipeline).run !== 'function')) {
    throw new OptionError('Expected an AnalysisPipeline ({ steps, run }) for pipeline');
  }
  const store = o.store as LibraryStore | undefined;
  if (store !== undefined && (store === null || typeof store !== 'object' || typeof store.claim !== 'function' || typeof store.listScenes !== 'function')) {
    throw new OptionError('Expected a LibraryStore (see src/store/types.ts) for store');
  }
  const leaseMs = opt(o, 'leaseMs', 5000, (n, v) => integerIn(n, v, 200, 3_600_000));
  const heartbeatMs = opt(o, 'heartbeatMs', 200, (n, v) => integerIn(n, v, 10, 60_000));
  if (heartbeatMs * 2 > leaseMs) throw new OptionError(`Expected heartbeatMs (${heartbeatMs}) at most half of leaseMs (${leaseMs})`);
  const givenPath = opt(o, 'path', '', string);
  const givenDatabase = opt(o, 'database', '', string);
  if (givenPath !== '' && givenDatabase !== '') throw new OptionError('Expected either path or database, not both');
  let location: LibraryLocation | null = null;
  if (store === undefined) {
    const where = givenDatabase || givenPath || defaultLibraryPath();
    location = libraryLocation(where);
    if (location === null) {
      throw new OptionError(`Expected a library file path or a postgres:// URL for ${givenDatabase !== '' ? 'database' : 'path'} but received ${JSON.stringify(redactUrl(where))}`);
    }
  }
  return {
    path: location === null ? givenPath || store!.location : location.kind === 'sqlite' ? location.path : redactUrl(location.url),
    location,
    create: opt(o, 'create', true, bool),
    store,
    assetsDir: opt<string | undefined>(o, 'assetsDir', undefined, string),
    workers: opt(o, 'workers', 1, (n, v) => integerIn(n, v, 0, 64)),
    pipeline: pipeline as AnalysisPipeline | undefined,
    maxRetries: opt(o, 'maxRetries', 3, (n, v) => integerIn(n, v, 0, 100)),
    leaseMs,
    heartbeatMs,
    pollMs: opt(o, 'pollMs', 500, (n, v) => integerIn(n, v, 10, 60_000)),
    busyTimeoutMs: opt(o, 'busyTimeoutMs', 5000, (n, v) => integerIn(n, v, 0, 600_000)),
    chunkSeconds: resolveChunkSeconds(o.chunkSeconds),
    maxFrames: opt<number | undefined>(o, 'maxFrames', undefined, (n, v) => integerIn(n, v, 1, Number.MAX_SAFE_INTEGER)),
    timeLimitMs: opt<number | undefined>(o, 'timeLimitMs', undefined, (n, v) => numberIn(n, v, 1, 2 ** 31 - 1)),
    ffmpegPath: opt<string | undefined>(o, 'ffmpegPath', undefined, string),
    ffprobePath: opt<string | undefined>(o, 'ffprobePath', undefined, string),
  };
}

/** Options of Library.startWorkers(). */
export interface StartWorkersOptions {
  /** Jobs at the same time. Default 1. */
  concurrency?: number;
  /** Run only these jobs (the CLI's `add --wait`). */
  jobIds?: readonly string[];
  /** Keep the process alive while idle (a worker process). Default false. */
  keepAlive?: boolean;
  /** Called when the queue is empty and nothing runs here. */
  onIdle?: () => void;
}

type Listener<K extends keyof LibraryEvents> = LibraryEvents[K];

/** An open library. See {@link openLibrary}. */
export class Library {
  /** The database file, or the server's URL without its password. */
  readonly path: string;
  /** The folder of thumbnails, posters and copied files. */
  readonly assetsDir: string;
  /** Register files and read their status. */
  readonly media: MediaApi;
  /** Queue, watch, retry and cancel analysis jobs. */
  readonly videoAnalysis: VideoAnalysisApi;
  /** Scenes of analysed videos and their thumbnails. */
  readonly videoScenes: VideoScenesApi;
  /** Full-text and similarity search over scenes. */
  readonly search: SearchApi;
  readonly #store: LibraryStore;
  readonly #options: ResolvedLibraryOptions;
  readonly #pipeline: AnalysisPipeline;
  readonly #ownsPipeline: boolean;
  #runner: JobRunner | null = null;
  #onIdle: (() => void) | undefined;
  readonly #listeners: { [K in keyof LibraryEvents]: Set<Listener<K>> } = { progress: new Set(), job: new Set(), chunk: new Set(), error: new Set() };
  readonly #watchers = new Map<string, Set<() => void>>();
  #closing: Promise<void> | null = null;

  /** @internal Use openLibrary(). */
  constructor(store: LibraryStore, options: ResolvedLibraryOptions) {
    this.#store = store;
    this.#options = options;
    this.path = options.path;
    this.assetsDir =
      options.assetsDir !== undefined ? path.resolve(options.assetsDir) : options.location?.kind === 'postgres' ? serverAssetsDir(options.location.url) : assetsDirFor(options.path);
    const ffmpeg = {
      ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}),
      ...(options.ffprobePath !== undefined ? { ffprobePath: options.ffprobePath } : {}),
    };
    this.#ownsPipeline = options.pipeline === undefined;
    const budget = { ...(options.maxFrames !== undefined ? { maxFrames: options.maxFrames } : {}), ...(options.timeLimitMs !== undefined ? { timeLimitMs: options.timeLimitMs } : {}) };
    this.#pipeline = options.pipeline ?? createDefaultPipeline({ ...ffmpeg, chunkSeconds: options.chunkSeconds, detect: budget });
    const ctx: LibraryContext = {
      store,
      assetsDir: this.assetsDir,
      ffmpeg,
      maxRetries: options.maxRetries,
      wake: () => this.#runner?.wake(),
      cancelLocal: (jobId) => this.#runner?.cancelLocal(jobId) ?? false,
      watch: (jobId, listener) => {
        let set = this.#watchers.get(jobId);
        if (set === undefined) this.#watchers.set(jobId, (set = new Set()));
        set.add(listener);
        // Changes made by other processes and hosts, when the store can tell (PostgreSQL LISTEN/NOTIFY).
        const unwatchStore = store.watchJobs?.((change) => {
          if (change.jobId === jobId) listener();
        });
        return () => {
          unwatchStore?.();
          set.delete(listener);
          if (set.size === 0) this.#watchers.delete(jobId);
        };
      },
      now: Date.now,
    };
    this.media = new MediaApi(ctx);
    this.videoAnalysis = new VideoAnalysisApi(ctx);
    this.videoScenes = new VideoScenesApi(ctx);
    this.search = new SearchApi(ctx);
  }

  /** The job store (for `scenescope worker`, tests and benchmarks). */
  get store(): LibraryStore {
    return this.#store;
  }

  /** Ids of jobs running in this process. */
  get runningJobIds(): string[] {
    return this.#runner?.runningJobIds ?? [];
  }

  /**
   * Start running jobs in this process (openLibrary does it when `workers` > 0). One runner per library.
   * @throws JobError INVALID_STATE when workers already run, StoreError STORE_FAILED after close().
   */
  startWorkers(options: StartWorkersOptions = {}): void {
    const o = plainOptions('startWorkers options', options, ['concurrency', 'jobIds', 'keepAlive', 'onIdle']);
    if (this.#closing !== null) throw new StoreError('STORE_FAILED', 'The library is closed');
    if (this.#runner !== null) throw new JobError('INVALID_STATE', 'This library already runs workers');
    const jobIds = o.jobIds as readonly string[] | undefined;
    this.#onIdle = o.onIdle as (() => void) | undefined;
    this.#runner = new JobRunner({
      store: this.#store,
      pipeline: this.#pipeline,
      concurrency: opt(o, 'concurrency', 1, (n, v) => integerIn(n, v, 1, 64)),
      leaseMs: this.#options.leaseMs,
      heartbeatMs: this.#options.heartbeatMs,
      pollMs: this.#options.pollMs,
      assetsRoot: this.assetsDir,
      keepAlive: opt(o, 'keepAlive', false, bool),
      ...(jobIds === undefined ? {} : { jobIds }),
      onEvent: (event) => this.#dispatch(event),
    });
    this.#runner.start();
  }

  /** Listen to in-process job events. Returns a function that removes the listener. */
  on<K extends keyof LibraryEvents>(event: K, listener: LibraryEvents[K]): () => void {
    const set = this.#listeners[event] as Set<LibraryEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  #emit<K extends keyof LibraryEvents>(event: K, ...args: Parameters<LibraryEvents[K]>): void {
    for (const listener of this.#listeners[event] as Set<(...a: Parameters<LibraryEvents[K]>) => void>) {
      try {
        listener(...args);
      } catch {
        // A listener's bug must not stop the worker loop.
      }
    }
  }

  #dispatch(event: RunnerEvent): void {
    switch (event.type) {
      case 'progress':
        this.#emit('progress', { analysis_job_id: event.jobId, media_id: event.mediaId, status: event.status, progress_percent: Math.round(event.progressPercent * 10) / 10, current_step: event.currentStep });
        break;
      case 'completed':
      case 'cancelled':
      case 'released':
      case 'lost':
        this.#emit('job', { analysis_job_id: event.jobId, media_id: event.mediaId, outcome: event.type, error_code: null, error_message: null });
        break;
      case 'failed':
        this.#emit('job', { analysis_job_id: event.jobId, media_id: event.mediaId, outcome: 'failed', error_code: event.code, error_message: event.message });
        break;
      case 'chunk':
        this.#emit('chunk', { analysis_job_id: event.jobId, media_id: event.mediaId, chunk_index: event.chunkIndex, kind: event.kind, outcome: event.outcome, duration_ms: event.durationMs });
        return;
      case 'error':
        this.#emit('error', event.error);
        return;
      case 'idle':
        this.#onIdle?.();
        return;
      default:
        break;
    }
    if ('jobId' in event) {
      for (const watcher of this.#watchers.get(event.jobId) ?? []) watcher();
    }
  }

  /**
   * A media's scenes in an export format: "json" (versioned), "csv", "edl" (CMX 3600) or "vtt" (WebVTT).
   * @throws StoreError NOT_FOUND, OptionError.
   */
  async exportScenes(mediaId: string, format: ExportFormat): Promise<string> {
    string('mediaId', mediaId);
    oneOf('format', format, EXPORT_FORMATS);
    const media = await this.#store.getMedia(mediaId);
    if (media === null) throw new StoreError('NOT_FOUND', `No media ${mediaId}`, { details: { media_id: mediaId } });
    const scenes = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.#store.listScenes(mediaId, { limit: 1000, offset });
      scenes.push(...page.items);
      if (page.items.length < 1000) break;
    }
    const input: ExportInput = {
      video_id: mediaId,
      file_name: media.file_name,
      file_path: media.file_path,
      video_metadata: media.video_metadata,
      analysis_job_id: scenes[0]?.job_id ?? null,
      scenes: scenes.map((scene) => ({ ...toLibraryScene(scene), errors: scene.errors })),
      degraded: (scenes[0] === undefined ? null : await this.#store.getJob(scenes[0].job_id))?.degraded ?? [],
    };
    switch (format) {
      case 'json':
        return exportJson(input);
      case 'csv':
        return exportCsv(input);
      case 'edl':
        return exportEdl(input);
      case 'vtt':
        return exportVtt(input);
    }
  }

  /** Live worker processes (and this library's own runner), for status displays. */
  async workers(): Promise<WorkerRecord[]> {
    return this.#store.liveWorkers(15_000);
  }

  /** `PRAGMA integrity_check` plus the foreign key and full-text checks: ["ok"] when healthy. */
  async integrityCheck(): Promise<string[]> {
    return this.#store.integrityCheck();
  }

  /**
   * Close: stop claiming, let running jobs reach a checkpoint for up to `graceMs` (default 0), abort the
   * rest (their ffmpeg processes are killed; they go back to the queue and resume later), release the
   * pipeline's models and close the database. Idempotent.
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (this.#runner !== null) await this.#runner.stop({ graceMs: options.graceMs ?? 0 });
        if (this.#ownsPipeline) await this.#pipeline.close?.();
      } finally {
        this.#watchers.clear();
        this.#store.close();
      }
    })();
    return this.#closing;
  }
}

/** The store a location names; better-sqlite3 and pg load here, when a library is opened, not on import. */
async function openStore(resolved: ResolvedLibraryOptions): Promise<LibraryStore> {
  if (resolved.store !== undefined) return resolved.store;
  const location = resolved.location!;
  if (location.kind === 'postgres') return (await import('../store/pg-store.js')).openPgStore(location.url, { create: resolved.create });
  return (await import('../store/sqlite-store.js')).openSqliteStore(location.path, { busyTimeoutMs: resolved.busyTimeoutMs, create: resolved.create });
}

/**
 * Open (creating if needed, unless `create: false`) a media library: the SQLite file at `path`, the
 * PostgreSQL database at a `postgres://` URL (`database`, or `path`), or `store`, used instead (and closed by
 * close()). With `workers` > 0 (default 1) jobs run in this process; uploads left unfinished by a crashed
 * process of this machine are marked aborted.
 * @throws StoreError STORE_FAILED (cannot open, or a newer schema), LIBRARY_NOT_FOUND (`create: false` and no
 *   library there), OptionError.
 */
export async function openLibrary(options?: LibraryOptions): Promise<Library> {
  const resolved = resolveLibraryOptions(options);
  const store = await openStore(resolved);
  try {
    await store.abortOrphanUploads(hostname(), (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const library = new Library(store, resolved);
  if (resolved.workers > 0) library.startWorkers({ concurrency: resolved.workers });
  return library;
}
