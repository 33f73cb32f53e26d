/**
 * library.videoAnalysis: queue, status, wait, retry, cancel, with the hosted API's semantics.
 *
 * - queue() is idempotent: a media's pending or running job is returned instead of a new one (the database
 *   enforces one active job per media with a unique partial index, so this holds across processes).
 * - queue_position counts pending jobs in claim order (1 = next; 0 = already running). estimated_start_time
 *   simulates the live workers' slots: running jobs free their slot at their ETA, each job ahead takes its
 *   expected duration (video length / measured seconds-of-video-per-second, else the mean job time).
 * - retry() only from failed or cancelled, at most max_retries times; the job resumes at its first unfinished
 *   step. cancel() works on pending and running jobs, in this or any other process.
 * - waitForCompletion() polls with backoff (x1.5, capped), wakes early on local job events, and always ends:
 *   timeout, abort, or the stalled-job detector.
 */
import { AbortError, JobError, OptionError, throwIfAborted } from '../errors.js';
import { ANALYSIS_TYPES, type AnalysisType } from '../jobs/pipeline.js';
import type { JobStore } from '../store/types.js';
import type { VideoAnalysisJobStatus, VideoAnalysisQueueResult, VideoAnalysisRetryResult, VideoAnalysisStatus } from '../types.js';
import { func, integerIn, oneOf, opt, plainOptions, signal as signalCheck, string } from '../util/validate.js';
import type { LibraryContext } from './context.js';
import { iso, toJobStatus } from './records.js';
import type { QueueOptions, WaitOptions } from './types.js';

/** Queue position and estimated start of a job. */
export async function estimateStart(store: JobStore, jobId: string, now: number): Promise<{ queue_position: number | null; estimated_start_time: string | null }> {
  const [snapshot, speed] = await Promise.all([store.queueSnapshot(), store.speedStats()]);
  const running = snapshot.running.find((job) => job.job_id === jobId);
  if (running !== undefined) return { queue_position: 0, estimated_start_time: iso(running.started_at) };
  const index = snapshot.pending.findIndex((job) => job.job_id === jobId);
  if (index < 0) return { queue_position: null, estimated_start_time: null };
  const position = index + 1;
  if (snapshot.slots <= 0) return { queue_position: position, estimated_start_time: null };
  const duration = (videoSeconds: number | null): number | null =>
    videoSeconds !== null && videoSeconds > 0 && speed.videoSecondsPerSecond !== null ? (videoSeconds / speed.videoSecondsPerSecond) * 1000 : speed.meanJobMs;
  const free: number[] = [];
  for (const job of snapshot.running) {
    if (job.estimated_completion_at !== null) free.push(Math.max(0, job.estimated_completion_at - now));
    else {
      const d = duration(job.video_seconds);
      if (d === null) return { queue_position: position, estimated_start_time: null };
      free.push(d * (1 - job.progress_percent / 100));
    }
  }
  while (free.length < snapshot.slots) free.push(0);
  free.sort((a, b) => a - b);
  free.length = Math.max(1, Math.min(free.length, snapshot.slots));
  for (const job of snapshot.pending.slice(0, index)) {
    const d = duration(job.video_seconds);
    if (d === null) return { queue_position: position, estimated_start_time: null };
    free[0]! += d;
    free.sort((a, b) => a - b);
  }
  return { queue_position: position, estimated_start_time: iso(Math.round(now + free[0]!)) };
}

function sleep(ms: number, signal: AbortSignal | undefined, wake: (fn: () => void) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopWatching = (): void => undefined;
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stopWatching();
      resolve();
    };
    const onAbort = (): void => {
      clearTimeout(timer);
      stopWatching();
      reject(new AbortError('The wait was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    stopWatching = wake(done);
  });
}

const WORKER_FRESH_MS = 15_000;
const STATUSES: readonly VideoAnalysisStatus[] = ['pending', 'uploading_to_vlm', 'processing', 'completed', 'failed', 'cancelled'];

function listOf<T>(value: unknown, check: (item: unknown, index: number) => T): T[] {
  if (!Array.isArray(value)) throw new OptionError(`Expected array for statuses but received ${typeof value}`);
  return value.map(check);
}

/** See the file header. */
export class VideoAnalysisApi {
  readonly #ctx: LibraryContext;

  /** @internal */
  constructor(ctx: LibraryContext) {
    this.#ctx = ctx;
  }

  /**
   * Queue a media for analysis, or return its pending/running job.
   * @throws StoreError NOT_FOUND (no such media), OptionError.
   */
  async queue(mediaId: string, options?: QueueOptions): Promise<VideoAnalysisQueueResult> {
    string('mediaId', mediaId);
    const o = plainOptions('queue options', options, ['analysisType', 'priority']);
    const analysisType = opt<AnalysisType>(o, 'analysisType', 'full', (n, v) => oneOf(n, v, ANALYSIS_TYPES));
    const priority = opt(o, 'priority', 0, (n, v) => integerIn(n, v, -1_000_000, 1_000_000));
    const { job, created } = await this.#ctx.store.enqueue({ mediaId, analysisType, priority, maxRetries: this.#ctx.maxRetries });
    if (created) this.#ctx.wake();
    const estimate = await estimateStart(this.#ctx.store, job.job_id, this.#ctx.now());
    return {
      analysis_job_id: job.job_id,
      media_id: job.media_id,
      ...estimate,
      message: created ? 'Queued for analysis' : `Analysis already ${job.status === 'pending' ? 'queued' : 'running'}; returning the existing job`,
    };
  }

  /** The status of a job. @throws JobError NOT_FOUND. */
  async getStatus(jobId: string): Promise<VideoAnalysisJobStatus> {
    string('jobId', jobId);
    const job = await this.#ctx.store.getJob(jobId);
    if (job === null) throw new JobError('NOT_FOUND', `No analysis job ${jobId}`, { details: { analysis_job_id: jobId } });
    return toJobStatus(job, this.#ctx.now());
  }

  /** The status of a media's latest job. @throws JobError NOT_FOUND when it has none. */
  async getStatusByMedia(mediaId: string): Promise<VideoAnalysisJobStatus> {
    string('mediaId', mediaId);
    const job = await this.#ctx.store.getLatestJob(mediaId);
    if (job === null) throw new JobError('NOT_FOUND', `Media ${mediaId} has no analysis job`, { details: { media_id: mediaId } });
    return toJobStatus(job, this.#ctx.now());
  }

  /** Queue position and estimated start of a job (0 when running, null when not queued). */
  async getQueuePosition(jobId: string): Promise<{ queue_position: number | null; estimated_start_time: string | null }> {
    string('jobId', jobId);
    return estimateStart(this.#ctx.store, jobId, this.#ctx.now());
  }

  /** Jobs, newest first. */
  async list(options?: { statuses?: readonly VideoAnalysisStatus[]; limit?: number }): Promise<VideoAnalysisJobStatus[]> {
    const o = plainOptions('list options', options, ['statuses', 'limit']);
    const limit = opt(o, 'limit', 100, (n, v) => integerIn(n, v, 1, 10_000));
    const statuses = o.statuses === undefined ? undefined : listOf(o.statuses, (v, i) => oneOf(`statuses[${i}]`, v, STATUSES));
    const jobs = await this.#ctx.store.listJobs({ limit, ...(statuses === undefined ? {} : { statuses }) });
    const now = this.#ctx.now();
    return jobs.map((job) => toJobStatus(job, now));
  }

  /**
   * Reset a failed or cancelled job to pending; it resumes at its first unfinished step.
   * @throws JobError INVALID_STATE (not failed/cancelled, or the media has another active job), RETRY_LIMIT, NOT_FOUND.
   */
  async retry(jobId: string): Promise<VideoAnalysisRetryResult> {
    string('jobId', jobId);
    const job = await this.#ctx.store.retryJob(jobId);
    this.#ctx.wake();
    return {
      analysis_job_id: job.job_id,
      media_id: job.media_id,
      status: 'pending',
      retry_count: job.retry_count,
      max_retries: job.max_retries,
      message: `Retry queued (attempt ${job.retry_count}/${job.max_retries})`,
    };
  }

  /**
   * Cancel a pending or running job: its status is cancelled at once; its worker (this process or another,
   * which learns it on its next heartbeat, within ~200 ms) aborts the running step and kills its processes.
   * Cancelling a cancelled job returns its status.
   * @throws JobError INVALID_STATE (completed or failed), NOT_FOUND.
   */
  async cancel(jobId: string): Promise<VideoAnalysisJobStatus> {
    string('jobId', jobId);
    const job = await this.#ctx.store.cancelJob(jobId);
    this.#ctx.cancelLocal(jobId);
    return toJobStatus(job, this.#ctx.now());
  }

  /**
   * Wait until the job is terminal. Resolves with the completed or cancelled status.
   * @throws JobError JOB_FAILED (details.status: the failed status), JobError TIMEOUT (details.status: the last
   *   status seen; details.stalled: true when no worker held the job), AbortError, JobError NOT_FOUND.
   */
  async waitForCompletion(jobId: string, options?: WaitOptions): Promise<VideoAnalysisJobStatus> {
    string('jobId', jobId);
    const o = plainOptions('waitForCompletion options', options, ['timeoutMs', 'signal', 'onProgress', 'pollIntervalMs', 'maxPollIntervalMs', 'stallTimeoutMs']);
    const timeoutMs = opt(o, 'timeoutMs', 3_600_000, (n, v) => integerIn(n, v, 0, 2 ** 31 - 1));
    const signal = opt<AbortSignal | undefined>(o, 'signal', undefined, signalCheck);
    const onProgress = opt<((s: VideoAnalysisJobStatus) => void) | undefined>(o, 'onProgress', undefined, func);
    const first = opt(o, 'pollIntervalMs', 250, (n, v) => integerIn(n, v, 10, 60_000));
    const cap = opt(o, 'maxPollIntervalMs', 5000, (n, v) => integerIn(n, v, 10, 600_000));
    const stallTimeoutMs = opt(o, 'stallTimeoutMs', 60_000, (n, v) => integerIn(n, v, 100, 2 ** 31 - 1));
    const start = this.#ctx.now();
    const deadline = start + timeoutMs;
    let delay = first;
    let last: VideoAnalysisJobStatus | null = null;
    let unattendedSince: number | null = null;
    for (;;) {
      throwIfAborted(signal);
      const job = await this.#ctx.store.getJob(jobId);
      if (job === null) throw new JobError('NOT_FOUND', `No analysis job ${jobId}`, { details: { analysis_job_id: jobId } });
      const now = this.#ctx.now();
      const status = toJobStatus(job, now);
      if (last === null || status.status !== last.status || status.progress_percent !== last.progress_percent || status.current_step !== last.current_step) {
        onProgress?.(status);
      }
      last = status;
      if (status.is_failed) {
        throw new JobError('JOB_FAILED', `Analysis job ${jobId} failed${status.error_code ? ` [${status.error_code}]` : ''}: ${status.error_message ?? 'unknown error'}`, { details: { status } });
      }
      if (status.is_terminal) return status;
      // Stalled-job detector: nobody is holding the job.
      let attended = true;
      if (job.status === 'pending') attended = (await this.#ctx.store.liveWorkers(WORKER_FRESH_MS)).length > 0;
      else if (job.lease_expires_at !== null && job.lease_expires_at < now) attended = false;
      if (attended) unattendedSince = null;
      else {
        unattendedSince ??= now;
        if (now - unattendedSince >= stallTimeoutMs) {
          const why = job.status === 'pending' ? 'no worker is running (start `scenescope worker` or open the library with workers > 0)' : 'its worker stopped responding and no other worker took it over';
          throw new JobError('TIMEOUT', `Analysis job ${jobId} is stalled: ${why}`, { details: { status, stalled: true } });
        }
      }
      if (now >= deadline) {
        throw new JobError('TIMEOUT', `Timed out after ${timeoutMs} ms waiting for analysis job ${jobId} (${status.status}, ${status.progress_percent}%)`, { details: { status, stalled: false } });
      }
      await sleep(Math.max(1, Math.min(delay, deadline - now)), signal, (fn) => this.#ctx.watch(jobId, fn));
      delay = Math.min(cap, Math.round(delay * 1.5));
    }
  }
}
