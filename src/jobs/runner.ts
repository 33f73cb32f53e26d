/**
 * The job runner: the worker loop shared by the library's in-process workers and `scenescope worker`.
 *
 * Loop: claim jobs while fewer than `concurrency` run (atomic claim with a lease, see JobStore.claim); poll
 * the queue every `pollMs`, and immediately when a job ends or `wake()` is called.
 *
 * One job: its finished steps are skipped (their outputs become `ctx.state`), each remaining step is marked
 * started, run with an AbortSignal, and completed in one store transaction with its effects and progress.
 * Every `heartbeatMs` (200 ms) the lease is extended and the latest progress written; the heartbeat's answer
 * aborts the step when the job was cancelled (by anyone, in any process) or the lease was lost (taken over
 * after this process stalled). A step that ignores its signal is abandoned, not awaited: the job's status is
 * settled at once and the late result is discarded by the claim-token guard.
 *
 * Shutdown (`stop({ graceMs })`): no new claims; running jobs stop at their next step boundary (a
 * checkpoint) or, after graceMs, are aborted mid-step; either way they go back to pending and resume later
 * at their first unfinished step.
 */
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import { AbortError, ERROR_CODES, hasCode, InputError, ScenescopeError, type ErrorCode } from '../errors.js';
import type { VideoAnalysisStatus } from '../types.js';
import { newId } from '../store/ids.js';
import type { ClaimedChunk, ClaimedJob, JobStore, SpeedStats } from '../store/types.js';
import { stepEffects, stepLabel, stepsFor, type AnalysisPipeline, type ChunkScheduler, type StepState } from './pipeline.js';
import { ProgressTracker } from './progress.js';

/** Something that happened in the runner. */
export type RunnerEvent =
  | { type: 'claimed'; jobId: string; mediaId: string; resumed: boolean }
  | { type: 'progress'; jobId: string; mediaId: string; status: VideoAnalysisStatus; progressPercent: number; currentStep: string; estimatedCompletionAt: number | null }
  | { type: 'step'; jobId: string; mediaId: string; step: string; durationMs: number }
  | { type: 'completed' | 'cancelled' | 'released' | 'lost'; jobId: string; mediaId: string }
  | { type: 'failed'; jobId: string; mediaId: string; code: string; message: string }
  /** A chunk of a job (a stretch of a long video) was done here. */
  | { type: 'chunk'; jobId: string; mediaId: string; chunkIndex: number; kind: string; durationMs: number; outcome: 'done' | 'failed' | 'released' | 'lost' | 'cancelled' }
  | { type: 'error'; error: unknown }
  /** Nothing runs here and the queue has no pending, running or orphaned job (of this runner's jobIds, if set). */
  | { type: 'idle' };

/** Options of {@link JobRunner}. */
export interface JobRunnerOptions {
  store: JobStore;
  pipeline: AnalysisPipeline;
  /** Jobs run at the same time. Default 1. */
  concurrency?: number;
  /** Lease length: a worker silent this long loses its job to another. Default 5000 ms. */
  leaseMs?: number;
  /** Heartbeat (lease renewal, progress write, cancel check) period. Default 200 ms. */
  heartbeatMs?: number;
  /** Queue poll period when idle. Default 500 ms. */
  pollMs?: number;
  /** Root of the library's files; each job writes into `<assetsRoot>/scenes/<media_id>/<job_id>`. */
  assetsRoot: string;
  /** Claim only these jobs. */
  jobIds?: readonly string[];
  /** Fail a job whose worker died this many times in one attempt (WORKER_FAILED). Default 3. */
  maxLeaseLosses?: number;
  /** Keep the process alive while idle (a worker process). Default false (a library in an app). */
  keepAlive?: boolean;
  /** Event listener. Must not throw. */
  onEvent?: (event: RunnerEvent) => void;
  /** Clock, for tests. */
  now?: () => number;
}

interface RunningJob {
  jobId: string;
  mediaId: string;
  token: string;
  controller: AbortController;
  /** Why the job is being stopped, null while it runs normally. */
  reason: 'cancelled' | 'lost' | 'shutdown' | null;
  /** Stop at the next step boundary (graceful shutdown). */
  checkpoint: boolean;
  /** Lease added by the running step (StepContext.extendLease), 0 normally. */
  extraLeaseMs: number;
  done: Promise<void>;
}

interface ChunkRun {
  controller: AbortController;
  done: Promise<void>;
}

const WORKER_HEARTBEAT_MS = 2000;
/** How often a job's holder looks at the state of its chunks while others work on them. */
const CHUNK_POLL_MS = 250;
const SPEED_TTL_MS = 10_000;
/** How long a finished job waits for an aborted step to let go of its processes. */
const ABORT_SETTLE_MS = 2000;

/** See the file header. */
export class JobRunner {
  /** This runner's id in the workers table and in job rows. */
  readonly workerId = newId('wrk');
  readonly #store: JobStore;
  readonly #pipeline: AnalysisPipeline;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #pollMs: number;
  readonly #assetsRoot: string;
  readonly #jobIds: readonly string[] | undefined;
  readonly #maxLeaseLosses: number;
  readonly #keepAlive: boolean;
  readonly #onEvent: (event: RunnerEvent) => void;
  readonly #now: () => number;
  readonly #running = new Map<string, RunningJob>();
  /** Chunks of other jobs running in this runner's free slots. */
  readonly #chunkRuns = new Map<string, ChunkRun>();
  /** Jobs whose file this host cannot read: their chunks are left to other hosts. */
  readonly #unreadable = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  #stopping = false;
  #ticking = false;
  #tickAgain = false;
  #lastWorkerBeat = 0;
  /** Consecutive failed ticks (store or disk errors): the poll backs off while it is above 0. */
  #failures = 0;
  #speed: { at: number; stats: SpeedStats } | null = null;
  /** Set when the store reported LIBRARY_GONE: nothing more is claimed. */
  #gone = false;
  #unwatch: (() => void) | null = null;

  constructor(options: JobRunnerOptions) {
    this.#store = options.store;
    this.#pipeline = options.pipeline;
    this.#concurrency = options.concurrency ?? 1;
    this.#leaseMs = options.leaseMs ?? 5000;
    this.#heartbeatMs = options.heartbeatMs ?? 200;
    this.#pollMs = options.pollMs ?? 500;
    this.#assetsRoot = options.assetsRoot;
    this.#jobIds = options.jobIds;
    this.#maxLeaseLosses = options.maxLeaseLosses ?? 3;
    this.#keepAlive = options.keepAlive ?? false;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /** Ids of the jobs running here now. */
  get runningJobIds(): string[] {
    return [...this.#running.keys()];
  }

  /** Start the loop (idempotent). */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    // A server store announces job changes: claim a queued job at once, abort a cancelled one at once (the
    // heartbeat would learn it within heartbeatMs anyway; polling stays as the fallback).
    this.#unwatch =
      this.#store.watchJobs?.((change) => {
        if (change.status === 'pending') this.wake();
        else if (change.status === 'cancelled') {
          const entry = this.#running.get(change.jobId);
          if (entry !== undefined) this.#interrupt(entry, 'cancelled');
        }
      }) ?? null;
    this.#schedule(0);
  }

  /** Look at the queue now (after a queue() or retry()). */
  wake(): void {
    if (this.#started && !this.#stopping) this.#schedule(0);
  }

  /** Abort a job running here because it was cancelled. True if it was running here. */
  cancelLocal(jobId: string): boolean {
    const entry = this.#running.get(jobId);
    if (entry === undefined) return false;
    this.#interrupt(entry, 'cancelled');
    return true;
  }

  /**
   * Stop: no new claims; let running jobs reach a checkpoint for up to graceMs, then abort them. Unfinished
   * jobs go back to the queue. Resolves when no job of this runner is running.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 0;
    this.#stopping = true;
    this.#unwatch?.();
    this.#unwatch = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const entry of this.#running.values()) entry.checkpoint = true;
    if (graceMs > 0 && this.#running.size + this.#chunkRuns.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.#running.values(), ...this.#chunkRuns.values()].map((e) => e.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer !== undefined) clearTimeout(timer);
    }
    for (const entry of this.#running.values()) this.#interrupt(entry, 'shutdown');
    for (const run of this.#chunkRuns.values()) run.controller.abort(new AbortError('The worker is shutting down'));
    await Promise.all([...this.#running.values(), ...this.#chunkRuns.values()].map((e) => e.done));
    if (this.#started) {
      try {
        await this.#store.workerStopped(this.workerId);
      } catch (error) {
        this.#onEvent({ type: 'error', error });
      }
    }
  }

  #interrupt(entry: RunningJob, reason: 'cancelled' | 'lost' | 'shutdown'): void {
    if (entry.reason !== null) return;
    entry.reason = reason;
    entry.controller.abort(new AbortError(reason === 'cancelled' ? 'The job was cancelled' : reason === 'lost' ? 'The job lease was lost' : 'The worker is shutting down'));
  }

  #schedule(delayMs: number): void {
    if (this.#stopping || this.#gone) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#tick();
    }, delayMs);
    if (!this.#keepAlive) this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = true;
    let claimedAny = false;
    let idle = false;
    try {
      const now = this.#now();
      if (now - this.#lastWorkerBeat >= WORKER_HEARTBEAT_MS) {
        this.#lastWorkerBeat = now;
        await this.#store.workerHeartbeat({ worker_id: this.workerId, host: hostname(), pid: process.pid, concurrency: this.#concurrency });
      }
      while (!this.#stopping && this.#running.size + this.#chunkRuns.size < this.#concurrency) {
        // Chunks of running jobs first: their holder waits for them, and a started job should finish first.
        const chunk = this.#pipeline.runChunk === undefined ? null : await this.#claimChunk();
        if (chunk !== null) {
          claimedAny = true;
          this.#launchChunk(chunk);
          continue;
        }
        const claim = await this.#store.claim({
          workerId: this.workerId,
          leaseMs: this.#leaseMs,
          maxLeaseLosses: this.#maxLeaseLosses,
          ...(this.#jobIds === undefined ? {} : { jobIds: this.#jobIds }),
        });
        if (claim === null) break;
        claimedAny = true;
        this.#launch(claim);
      }
      if (!claimedAny && this.#running.size === 0 && this.#chunkRuns.size === 0 && !this.#stopping) idle = await this.#queueEmpty();
      this.#failures = 0;
    } catch (error) {
      // The library file was deleted or replaced: claiming again would only repeat the error.
      if (hasCode(error, 'LIBRARY_GONE')) this.#gone = true;
      // A full disk (or a failing database) fails every tick the same way: wait longer each time (doubling up
      // to MAX_BACKOFF_MS) instead of retrying, and reporting, several times a second.
      this.#failures++;
      this.#onEvent({ type: 'error', error });
    } finally {
      this.#ticking = false;
      const again = this.#tickAgain && this.#failures === 0;
      this.#tickAgain = false;
      if (idle) this.#onEvent({ type: 'idle' });
      this.#schedule(again ? 0 : this.#backoff(this.#pollMs));
    }
  }

  /** `base` doubled for each consecutive failure, capped at MAX_BACKOFF_MS (base itself when none). */
  #backoff(base: number): number {
    return this.#failures === 0 ? base : Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(this.#failures, 16));
  }

  #launch(claim: ClaimedJob): void {
    const entry: RunningJob = {
      jobId: claim.job.job_id,
      mediaId: claim.job.media_id,
      token: claim.token,
      controller: new AbortController(),
      reason: null,
      checkpoint: this.#stopping,
      extraLeaseMs: 0,
      done: Promise.resolve(),
    };
    this.#running.set(entry.jobId, entry);
    this.#onEvent({ type: 'claimed', jobId: entry.jobId, mediaId: entry.mediaId, resumed: claim.resumed });
    entry.done = this.#run(claim, entry)
      .catch((error: unknown) => this.#onEvent({ type: 'error', error }))
      .finally(() => {
        this.#running.delete(entry.jobId);
        this.wake();
      });
  }

  async #claimChunk(): Promise<ClaimedChunk | null> {
    const jobIds = this.#jobIds;
    for (let tries = 0; tries < 4; tries++) {
      const chunk = await this.#store.claimChunk({ workerId: this.workerId, leaseMs: this.#leaseMs, ...(jobIds === undefined ? {} : { jobIds }) });
      if (chunk === null) return null;
      if (!this.#unreadable.has(chunk.job_id)) return chunk;
      await this.#store.releaseChunk(chunk.job_id, chunk.chunk_index, chunk.token);
    }
    return null;
  }

  #launchChunk(chunk: ClaimedChunk): void {
    const key = `${chunk.job_id}#${chunk.chunk_index}`;
    const controller = new AbortController();
    const run: ChunkRun = { controller, done: Promise.resolve() };
    this.#chunkRuns.set(key, run);
    run.done = this.#runChunk(chunk, controller)
      .catch((error: unknown) => this.#onEvent({ type: 'error', error }))
      .finally(() => {
        this.#chunkRuns.delete(key);
        this.wake();
      });
  }

  /**
   * Run one claimed chunk: heartbeat its own lease (a cancelled job or a lost lease aborts it), store its
   * result or its failure. A shutdown gives it back to the queue.
   */
  async #runChunk(chunk: ClaimedChunk, controller: AbortController, outer?: AbortSignal): Promise<void> {
    // Which step the chunk is part of: its spec's `kind` ("enrich"), else "detect".
    const kind = typeof (chunk.spec as { kind?: unknown } | null)?.kind === 'string' ? String((chunk.spec as { kind: string }).kind) : 'detect';
    const base = { jobId: chunk.job_id, mediaId: chunk.media_id, chunkIndex: chunk.chunk_index, kind };
    const started = this.#now();
    const onOuterAbort = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let fraction = 0;
    let stopped: 'cancelled' | 'lost' | null = null;
    let beating = false;
    const heartbeat = setInterval(() => {
      if (beating || controller.signal.aborted) return;
      beating = true;
      this.#store
        .heartbeatChunk(chunk.job_id, chunk.chunk_index, chunk.token, this.#leaseMs, fraction)
        .then((answer) => {
          if (answer !== 'ok') {
            stopped = answer;
            controller.abort(new AbortError(answer === 'cancelled' ? 'The job was cancelled' : 'The chunk lease was lost'));
          }
        })
        .catch((error: unknown) => this.#onEvent({ type: 'error', error }))
        .finally(() => {
          beating = false;
        });
    }, this.#heartbeatMs);
    let pending: Promise<Buffer> | null = null;
    try {
      try {
        await access(chunk.file_path, constants.R_OK);
      } catch {
        // Another host may read it: leave this job's chunks to them.
        this.#unreadable.add(chunk.job_id);
        await this.#store.releaseChunk(chunk.job_id, chunk.chunk_index, chunk.token);
        this.#onEvent({ type: 'chunk', ...base, durationMs: 0, outcome: 'released' });
        return;
      }
      pending = this.#pipeline.runChunk!(chunk.spec, {
        mediaPath: chunk.file_path,
        mediaId: chunk.media_id,
        jobId: chunk.job_id,
        chunkIndex: chunk.chunk_index,
        input: chunk.input,
        signal: controller.signal,
        onProgress: (f) => {
          if (Number.isFinite(f)) fraction = Math.max(fraction, Math.min(1, f));
        },
      });
      const data = await raceAbort(pending, controller.signal);
      pending = null;
      const durationMs = this.#now() - started;
      const ok = await this.#store.completeChunk(chunk.job_id, chunk.chunk_index, chunk.token, data, durationMs);
      this.#onEvent({ type: 'chunk', ...base, durationMs, outcome: ok ? 'done' : 'lost' });
    } catch (error) {
      const durationMs = this.#now() - started;
      if (controller.signal.aborted) {
        if (stopped !== null) this.#onEvent({ type: 'chunk', ...base, durationMs, outcome: stopped });
        else {
          await this.#store.releaseChunk(chunk.job_id, chunk.chunk_index, chunk.token).catch(() => false);
          this.#onEvent({ type: 'chunk', ...base, durationMs, outcome: 'released' });
        }
        if (outer?.aborted === true) throw outer.reason instanceof Error ? outer.reason : new AbortError();
        return;
      }
      const { code, message } = describeError(error);
      await this.#store.failChunk(chunk.job_id, chunk.chunk_index, chunk.token, code, message);
      this.#onEvent({ type: 'chunk', ...base, durationMs, outcome: 'failed' });
    } finally {
      clearInterval(heartbeat);
      outer?.removeEventListener('abort', onOuterAbort);
      if (pending !== null) await settleWithin(pending, ABORT_SETTLE_MS);
    }
  }

  /** The chunk scheduler of a running job: plan, work on its chunks here, wait for the others. */
  #chunkScheduler(entry: RunningJob): ChunkScheduler {
    return {
      run: async (specs, onProgress, inputs) => {
        const signal = entry.controller.signal;
        if (!(await this.#store.planChunks(entry.jobId, entry.token, specs, inputs))) {
          this.#interrupt(entry, 'lost');
          throw signal.reason;
        }
        let reported = -1;
        for (;;) {
          if (signal.aborted) throw signal.reason;
          const mine = await this.#store.claimChunk({ workerId: this.workerId, leaseMs: this.#leaseMs, jobIds: [entry.jobId] });
          if (mine !== null) {
            // Say how far the chunks are before this one runs here (the holder reports nothing meanwhile).
            if (onProgress !== undefined) {
              const all = await this.#store.listChunks(entry.jobId);
              const finished = all.filter((c) => c.status === 'done').length;
              if (finished !== reported) onProgress(finished, all.length, finished / Math.max(1, all.length));
              reported = finished;
            }
            await this.#runChunk(mine, new AbortController(), signal);
            continue;
          }
          const chunks = await this.#store.listChunks(entry.jobId);
          const failed = chunks.find((c) => c.status === 'failed');
          if (failed !== undefined) throw new ScenescopeError(failed.error_code !== null && failed.error_code in ERROR_CODES ? (failed.error_code as ErrorCode) : 'INTERNAL', `Chunk ${failed.chunk_index} of the video failed: ${failed.error_message ?? 'unknown error'}`);
          const done = chunks.filter((c) => c.status === 'done').length;
          onProgress?.(done, chunks.length, chunks.reduce((sum, c) => sum + (c.status === 'done' ? 1 : c.progress), 0) / Math.max(1, chunks.length));
          if (done === chunks.length) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, CHUNK_POLL_MS);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            }, { once: true });
          });
        }
        return {
          count: specs.length,
          read: async (index) => {
            const data = await this.#store.readChunk(entry.jobId, index);
            if (data === null) throw new ScenescopeError('INTERNAL', `Chunk ${index} of job ${entry.jobId} has no stored result`);
            return data;
          },
        };
      },
    };
  }

  async #queueEmpty(): Promise<boolean> {
    if (this.#jobIds !== undefined) {
      // Only this runner's jobs matter: each must be terminal.
      for (const id of this.#jobIds) {
        const job = await this.#store.getJob(id);
        if (job !== null && (job.status === 'pending' || job.status === 'processing' || job.status === 'uploading_to_vlm')) return false;
      }
      return true;
    }
    const snapshot = await this.#store.queueSnapshot();
    return snapshot.pending.length === 0 && snapshot.running.length === 0 && snapshot.orphaned === 0;
  }

  async #speedStats(): Promise<SpeedStats | null> {
    const now = this.#now();
    if (this.#speed !== null && now - this.#speed.at < SPEED_TTL_MS) return this.#speed.stats;
    try {
      this.#speed = { at: now, stats: await this.#store.speedStats() };
      return this.#speed.stats;
    } catch {
      return null;
    }
  }

  async #run(claim: ClaimedJob, entry: RunningJob): Promise<void> {
    const { job } = claim;
    const steps = stepsFor(this.#pipeline, job.analysis_type);
    const tracker = new ProgressTracker(steps, await this.#speedStats(), job.progress_percent, job.video_seconds, this.#now());
    const state: StepState = {};
    const done = new Set<string>();
    for (const step of claim.doneSteps) {
      state[step.step as keyof StepState] = step.output;
      done.add(step.step);
    }
    steps.forEach((step, i) => {
      if (done.has(step.name)) tracker.finishStep(i);
    });
    let status: VideoAnalysisStatus = 'processing';
    let currentStep = claim.resumed ? 'Resuming' : 'Starting';
    let lastEmit = 0;
    const progress = (): { progressPercent: number; currentStep: string; estimatedCompletionAt: number | null; status: VideoAnalysisStatus } => ({
      progressPercent: tracker.percent,
      currentStep,
      estimatedCompletionAt: tracker.eta(this.#now()),
      status,
    });
    const emitProgress = (force: boolean): void => {
      const now = this.#now();
      if (!force && now - lastEmit < 100) return;
      lastEmit = now;
      this.#onEvent({ type: 'progress', jobId: entry.jobId, mediaId: entry.mediaId, ...progress() });
    };

    let beating = false;
    let beatFailures = 0;
    const heartbeat = setInterval(() => {
      if (beating || entry.reason !== null) return;
      beating = true;
      this.#store
        .heartbeat(entry.jobId, entry.token, this.#leaseMs + entry.extraLeaseMs, progress())
        .then((answer) => {
          beatFailures = 0;
          if (answer !== 'ok') this.#interrupt(entry, answer);
        })
        .catch((error: unknown) => {
          // Report the 1st, 2nd, 4th, 8th... failure in a row, not every beat (5 a second on a full disk).
          beatFailures++;
          if ((beatFailures & (beatFailures - 1)) === 0) this.#onEvent({ type: 'error', error });
        })
        .finally(() => {
          beating = false;
        });
    }, this.#heartbeatMs);

    let pendingStep: Promise<unknown> | null = null;
    try {
      // Workers of a server library run on many hosts: the file must be readable on this one.
      await access(claim.media.file_path, constants.R_OK).catch((error: unknown) => {
        throw new InputError('MEDIA_UNREADABLE_ON_HOST', `Host ${hostname()} cannot read ${claim.media.file_path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); mount it at the same path on every worker host`, {
          cause: error,
          details: { host: hostname(), path: claim.media.file_path },
        });
      });
      for (let index = 0; index < steps.length; index++) {
        const step = steps[index]!;
        if (done.has(step.name)) continue;
        if (entry.checkpoint) this.#interrupt(entry, 'shutdown');
        if (entry.reason !== null) throw entry.controller.signal.reason;
        status = step.status ?? 'processing';
        currentStep = stepLabel(step);
        tracker.enterStep(index);
        if (!(await this.#store.startStep(entry.jobId, entry.token, step.name, index, progress()))) {
          this.#interrupt(entry, 'lost');
          throw entry.controller.signal.reason;
        }
        emitProgress(true);
        const started = this.#now();
        pendingStep = this.#pipeline.run(step, {
          mediaPath: claim.media.file_path,
          mediaId: entry.mediaId,
          jobId: entry.jobId,
          analysisType: job.analysis_type,
          signal: entry.controller.signal,
          state: { ...state },
          assetsDir: path.join(this.#assetsRoot, 'scenes', entry.mediaId, entry.jobId),
          ...(this.#pipeline.runChunk === undefined ? {} : { chunks: this.#chunkScheduler(entry) }),
          extendLease: async (extraMs: number) => {
            entry.extraLeaseMs = Number.isFinite(extraMs) ? Math.max(0, Math.min(3_600_000, Math.round(extraMs))) : 0;
            const answer = await this.#store.heartbeat(entry.jobId, entry.token, this.#leaseMs + entry.extraLeaseMs);
            if (answer !== 'ok') this.#interrupt(entry, answer);
          },
          onProgress: (fraction, text) => {
            if (entry.reason !== null) return;
            tracker.update(fraction);
            if (text !== undefined && text !== '') currentStep = text;
            emitProgress(false);
          },
        });
        const output = await raceAbort(pendingStep, entry.controller.signal);
        pendingStep = null;
        entry.extraLeaseMs = 0;
        const { effects, stored } = stepEffects(step.name, output);
        if (effects.metadata !== undefined) tracker.setVideoSeconds(effects.metadata.duration_seconds);
        tracker.finishStep(index);
        const durationMs = this.#now() - started;
        const next = steps.slice(index + 1).find((s) => !done.has(s.name));
        currentStep = next === undefined ? 'Finishing' : stepLabel(next);
        const ok = await this.#store.completeStep(entry.jobId, entry.token, {
          step: step.name,
          stepIndex: index,
          output: stored,
          durationMs,
          progressPercent: tracker.percent,
          currentStep,
          estimatedCompletionAt: tracker.eta(this.#now()),
          leaseMs: this.#leaseMs,
          effects,
        });
        if (!ok) {
          // Cancelled or taken over between two heartbeats: the transaction wrote nothing.
          const answer = await this.#store.heartbeat(entry.jobId, entry.token, this.#leaseMs);
          this.#interrupt(entry, answer === 'cancelled' ? 'cancelled' : 'lost');
          throw entry.controller.signal.reason;
        }
        state[step.name] = stored;
        done.add(step.name);
        this.#onEvent({ type: 'step', jobId: entry.jobId, mediaId: entry.mediaId, step: step.name, durationMs });
        emitProgress(true);
      }
      const superseded = await this.#store.completeJob(entry.jobId, entry.token, 'Completed');
      if (superseded === null) {
        const answer = await this.#store.heartbeat(entry.jobId, entry.token, this.#leaseMs);
        this.#interrupt(entry, answer === 'cancelled' ? 'cancelled' : 'lost');
        throw entry.controller.signal.reason;
      }
      this.#onEvent({ type: 'completed', jobId: entry.jobId, mediaId: entry.mediaId });
      for (const old of superseded) {
        await rm(path.join(this.#assetsRoot, 'scenes', entry.mediaId, old), { recursive: true, force: true }).catch(() => undefined);
      }
    } catch (error) {
      await this.#settleFailure(entry, error, currentStep);
    } finally {
      clearInterval(heartbeat);
      if (pendingStep !== null) await settleWithin(pendingStep, ABORT_SETTLE_MS);
    }
  }

  /**
   * Write the job's failure. When the write itself fails on a full disk, retry with a doubling wait (capped at
   * MAX_BACKOFF_MS) until it is written or the runner stops, so the job ends with its error instead of being
   * left running with none, and no other job is claimed meanwhile (it would only fail the same way).
   */
  async #recordFailure(entry: RunningJob, code: string, message: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#store.failJob(entry.jobId, entry.token, code, message);
      } catch (error) {
        if (!isDiskFull(error) || this.#stopping) throw error;
        if ((attempt & (attempt + 1)) === 0) this.#onEvent({ type: 'error', error });
        const wait = Math.min(MAX_BACKOFF_MS, this.#pollMs * 2 ** Math.min(attempt + 1, 16));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          if (!this.#keepAlive) timer.unref();
        });
      }
    }
  }

  async #settleFailure(entry: RunningJob, error: unknown, currentStep: string): Promise<void> {
    const base = { jobId: entry.jobId, mediaId: entry.mediaId };
    switch (entry.reason) {
      case 'cancelled':
        // The store already says cancelled (that is how we learnt it); nothing to write.
        this.#onEvent({ type: 'cancelled', ...base });
        return;
      case 'lost':
        this.#onEvent({ type: 'lost', ...base });
        return;
      case 'shutdown': {
        const released = await this.#store.releaseJob(entry.jobId, entry.token, `Interrupted at "${currentStep}"; waiting to resume`);
        if (!released) {
          const answer = await this.#store.heartbeat(entry.jobId, entry.token, this.#leaseMs).catch(() => 'lost' as const);
          this.#onEvent({ type: answer === 'cancelled' ? 'cancelled' : 'lost', ...base });
        } else this.#onEvent({ type: 'released', ...base });
        return;
      }
      case null: {
        const { code, message } = describeError(error);
        const failed = await this.#recordFailure(entry, code, message);
        if (failed) this.#onEvent({ type: 'failed', ...base, code, message });
        else {
          const answer = await this.#store.heartbeat(entry.jobId, entry.token, this.#leaseMs).catch(() => 'lost' as const);
          this.#onEvent({ type: answer === 'cancelled' ? 'cancelled' : 'lost', ...base });
        }
      }
    }
  }
}

/** The stable code and the message of a step failure. */
export function describeError(error: unknown): { code: string; message: string } {
  if (isDiskFull(error)) return { code: 'DISK_FULL', message: error instanceof Error ? error.message : String(error) };
  if (error instanceof ScenescopeError) return { code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'AbortError') return { code: 'ABORTED', message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

/**
 * Whether an error (or one of its causes) says the disk or the quota is full: ENOSPC/EDQUOT from a write,
 * SQLITE_FULL from the database ("database or disk is full"), or a DISK_FULL error.
 */
export function isDiskFull(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; details?: { sqlite_code?: unknown }; message?: unknown };
    if (x.code === 'DISK_FULL' || x.code === 'ENOSPC' || x.code === 'EDQUOT' || x.code === 'SQLITE_FULL' || x.details?.sqlite_code === 'SQLITE_FULL') return true;
    if (typeof x.message === 'string' && /database or disk is full|no space left on device/i.test(x.message)) return true;
  }
  return false;
}

/** The longest wait between retries after store or disk failures. */
export const MAX_BACKOFF_MS = 30_000;

/** The promise's outcome, or an AbortError as soon as the signal fires (the promise is then abandoned). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new AbortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new AbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
}
