/**
 * The library's job semantics with an injected (fake) pipeline, jobs running in the library's own process:
 * queue, status, progress, wait, retry, cancel, resume, search, export. The same cases run on a SQLite file
 * and on a throwaway PostgreSQL server (skipped with the reason when PostgreSQL is not installed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { hasCode, JobError } from '../src/errors.js';
import type { AnalysisPipeline } from '../src/jobs/pipeline.js';
import { ProgressTracker } from '../src/jobs/progress.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { VideoAnalysisJobStatus } from '../src/types.js';
import { addFakeMedia, loadFakePipeline, until, writeFakePipeline } from './library-helpers.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-jobs-'));
const log = path.join(dir, 'runs.log');
process.env.FAKE_PIPELINE_LOG = log;
let pipeline: AnalysisPipeline;
let n = 0;
const open: Library[] = [];

before(async () => {
  pipeline = await loadFakePipeline(writeFakePipeline(dir));
});
after(async () => {
  await Promise.all(open.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A new empty library location of the backend under test (a file, or a fresh PostgreSQL database). */
let newLocation: () => string = () => path.join(dir, `lib-${++n}.db`);

async function lib(options: { workers?: number; file?: string; leaseMs?: number } = {}): Promise<Library> {
  const library = await openLibrary({ path: options.file ?? newLocation(), pipeline, workers: options.workers ?? 1, pollMs: 50, ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}) });
  open.push(library);
  return library;
}

function runsOf(jobId: string): string[] {
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(jobId + ' '));
}

function jobSuite(): void {
  test('a queued job runs to completed: statuses, monotonic progress, human current_step, ETA, scenes', async () => {
    const library = await lib();
    const media = await addFakeMedia(library, dir, 'ok', { duration: 8, scenes: 3, stepMs: { detect: 600, enrich: 200 } });
    const queued = await library.videoAnalysis.queue(media);
    assert.match(queued.analysis_job_id, /^job_/);
    assert.equal(queued.media_id, media);
    const seen: VideoAnalysisJobStatus[] = [];
    const events: number[] = [];
    const off = library.on('progress', (p) => p.analysis_job_id === queued.analysis_job_id && events.push(p.progress_percent));
    let listedWhileRunning: number | null = null;
    const final = await library.videoAnalysis.waitForCompletion(queued.analysis_job_id, {
      timeoutMs: 20_000,
      pollIntervalMs: 20,
      maxPollIntervalMs: 40,
      onProgress: (s) => {
        seen.push(s);
        if (s.status === 'processing' && listedWhileRunning === null) void library.videoScenes.list(media).then((l) => (listedWhileRunning = l.total_count));
      },
    });
    off();
    assert.equal(final.status, 'completed');
    assert.equal(final.is_completed && final.is_terminal && !final.is_failed && !final.is_pending, true);
    assert.equal(final.progress_percent, 100);
    assert.ok(final.started_at !== null && final.completed_at !== null && final.started_at <= final.completed_at);
    assert.equal(final.estimated_completion_time, null);
    const percents = seen.map((s) => s.progress_percent);
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'progress_percent never goes down');
    assert.deepEqual(events, [...events].sort((a, b) => a - b), 'progress events never go down');
    assert.ok(seen.some((s) => /^Detecting scenes \(\d+\/200 frames\)$/.test(s.current_step ?? '')), seen.map((s) => s.current_step).join(' | '));
    assert.ok(seen.some((s) => s.status === 'uploading_to_vlm'), 'the enrich step shows uploading_to_vlm');
    assert.ok(seen.some((s) => s.status !== 'completed' && s.estimated_completion_time !== null), 'an ETA while running');
    assert.equal(listedWhileRunning, 0, 'no scenes before the job completes');
    const scenes = await library.videoScenes.list(media);
    assert.equal(scenes.total_count, 3);
    assert.equal(scenes.video_id, media);
    assert.deepEqual(scenes.items.map((s) => s.scene_index), [0, 1, 2]);
    assert.equal(scenes.items[1]!.start_time, scenes.items[0]!.end_time);
    assert.equal(scenes.items[0]!.confidence_score, 0.8);
    assert.equal(scenes.items[0]!.description, 'Scene 0');
    const page = await library.videoScenes.list(media, { limit: 1, offset: 2 });
    assert.deepEqual([page.total_count, page.items.length, page.items[0]!.scene_index], [3, 1, 2]);
    const steps = await library.store.getSteps(queued.analysis_job_id);
    assert.deepEqual(steps.map((s) => [s.step, s.status]), [['probe', 'done'], ['detect', 'done'], ['enrich', 'done']]);
    assert.equal((steps[1]!.output as Record<string, unknown>).features, undefined, 'bulky detector features are not stored');
    assert.deepEqual(await library.videoAnalysis.getStatusByMedia(media), await library.videoAnalysis.getStatus(queued.analysis_job_id));
  });

  test('queue is idempotent: the pending or running job is returned', async () => {
    const library = await lib({ workers: 0 });
    const media = await addFakeMedia(library, dir, 'idem');
    const a = await library.videoAnalysis.queue(media);
    const b = await library.videoAnalysis.queue(media, { priority: 3 });
    assert.equal(b.analysis_job_id, a.analysis_job_id);
    assert.equal(a.message, 'Queued for analysis');
    assert.equal(b.message, 'Analysis already queued; returning the existing job');
    await assert.rejects(library.videoAnalysis.queue('med_unknown'), (e: unknown) => hasCode(e, 'NOT_FOUND'));
    await assert.rejects(library.videoAnalysis.queue(media, { analysisType: 'everything' as 'full' }), (e: unknown) => hasCode(e, 'INVALID_OPTION') && /Expected one of "full", "scenes" for analysisType/.test((e as Error).message));
  });

  test('queue_position follows the queue; estimated_start_time comes from measured speed and live workers', async () => {
    const file = newLocation();
    const runner = await lib({ file });
    const warm = await addFakeMedia(runner, dir, 'warm', { duration: 10, stepMs: { detect: 300 } });
    await runner.videoAnalysis.waitForCompletion((await runner.videoAnalysis.queue(warm)).analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    await runner.close();
    const library = await lib({ file, workers: 0 });
    const a = await library.videoAnalysis.queue(await addFakeMedia(library, dir, 'q1', { duration: 10 }));
    const b = await library.videoAnalysis.queue(await addFakeMedia(library, dir, 'q2', { duration: 10 }));
    const c = await library.videoAnalysis.queue(await addFakeMedia(library, dir, 'q3', { duration: 20 }));
    assert.deepEqual([a.queue_position, b.queue_position, c.queue_position], [1, 2, 3]);
    assert.equal(c.estimated_start_time, null, 'no live worker: unknown');
    await library.store.workerHeartbeat({ worker_id: 'wrk_test', host: 'h', pid: 1, concurrency: 1 });
    const speed = (await library.store.speedStats()).videoSecondsPerSecond!;
    const now = Date.now();
    const first = await library.videoAnalysis.getQueuePosition(a.analysis_job_id);
    const third = await library.videoAnalysis.getQueuePosition(c.analysis_job_id);
    assert.equal(third.queue_position, 3);
    assert.ok(Math.abs(Date.parse(first.estimated_start_time!) - now) < 1000);
    const expected = now + (20 / speed) * 1000;
    assert.ok(Math.abs(Date.parse(third.estimated_start_time!) - expected) < 1000, `${third.estimated_start_time} vs ${new Date(expected).toISOString()}`);
  });

  test('a failing step ends the job failed with its error code; wait rejects with the failed status; the queue goes on', async () => {
    const library = await lib();
    const bad = await addFakeMedia(library, dir, 'bad', { fail: { step: 'probe', code: 'UNSUPPORTED_FORMAT', message: 'bad.fake is not a video file ffmpeg can read' } });
    const good = await addFakeMedia(library, dir, 'good');
    const badJob = await library.videoAnalysis.queue(bad);
    const goodJob = await library.videoAnalysis.queue(good);
    await assert.rejects(library.videoAnalysis.waitForCompletion(badJob.analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 }), (e: unknown) => {
      assert.ok(e instanceof JobError);
      assert.equal(e.code, 'JOB_FAILED');
      assert.equal(e.message, `Analysis job ${badJob.analysis_job_id} failed [UNSUPPORTED_FORMAT]: bad.fake is not a video file ffmpeg can read`);
      const status = e.details.status as VideoAnalysisJobStatus;
      assert.equal(status.status, 'failed');
      assert.equal(status.error_code, 'UNSUPPORTED_FORMAT');
      assert.equal(status.is_failed && status.is_terminal, true);
      return true;
    });
    assert.equal((await library.videoAnalysis.waitForCompletion(goodJob.analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 })).status, 'completed');
  });

  test('retry: only from failed or cancelled, up to max_retries, "attempt n/3"', async () => {
    const library = await lib();
    const ok = await addFakeMedia(library, dir, 'retry-ok');
    const done = await library.videoAnalysis.queue(ok);
    await library.videoAnalysis.waitForCompletion(done.analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    await assert.rejects(library.videoAnalysis.retry(done.analysis_job_id), (e: unknown) => hasCode(e, 'INVALID_STATE') && /is completed; only failed or cancelled jobs can be retried/.test((e as Error).message));

    const media = await addFakeMedia(library, dir, 'retry-bad', { fail: { step: 'detect', code: 'DECODE_FAILED', message: 'no frame' } });
    const job = await library.videoAnalysis.queue(media);
    const wait = (): Promise<unknown> => library.videoAnalysis.waitForCompletion(job.analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 }).catch((e: unknown) => e);
    assert.ok(hasCode(await wait(), 'JOB_FAILED'));
    for (let attempt = 1; attempt <= 3; attempt++) {
      const retried = await library.videoAnalysis.retry(job.analysis_job_id);
      assert.deepEqual(retried, { analysis_job_id: job.analysis_job_id, media_id: media, status: 'pending', retry_count: attempt, max_retries: 3, message: `Retry queued (attempt ${attempt}/3)` });
      assert.ok(hasCode(await wait(), 'JOB_FAILED'));
    }
    await assert.rejects(library.videoAnalysis.retry(job.analysis_job_id), (e: unknown) => hasCode(e, 'RETRY_LIMIT'));
    // A retry resumes at the failed step: probe ran once, detect four times.
    assert.equal(runsOf(job.analysis_job_id).filter((l) => l.includes(' probe start')).length, 1);
    assert.equal(runsOf(job.analysis_job_id).filter((l) => l.includes(' detect start')).length, 4);
  });

  test('waitForCompletion: timeout carries the last status, backoff x1.5 capped, abort, stall detector', async () => {
    const library = await lib({ workers: 0 });
    const media = await addFakeMedia(library, dir, 'wait');
    const { analysis_job_id } = await library.videoAnalysis.queue(media);
    let reads = 0;
    const original = library.store.getJob.bind(library.store);
    library.store.getJob = (id: string) => {
      reads++;
      return original(id);
    };
    const started = Date.now();
    await assert.rejects(library.videoAnalysis.waitForCompletion(analysis_job_id, { timeoutMs: 1000, pollIntervalMs: 100, maxPollIntervalMs: 1000 }), (e: unknown) => {
      assert.ok(hasCode(e, 'TIMEOUT'));
      assert.match((e as Error).message, /^Timed out after 1000 ms waiting for analysis job job_\w+ \(pending, 0%\)$/);
      assert.equal(((e as JobError).details.status as VideoAnalysisJobStatus).status, 'pending');
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000 && elapsed < 1600, `${elapsed} ms`);
    // 0, 100, 250, 475, 812, 1000 ms: six reads with backoff (eleven without).
    assert.ok(reads >= 5 && reads <= 7, `${reads} reads`);
    library.store.getJob = original;

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(library.videoAnalysis.waitForCompletion(analysis_job_id, { signal: controller.signal }), (e: unknown) => hasCode(e, 'ABORTED'));
    await assert.rejects(library.videoAnalysis.waitForCompletion(analysis_job_id, { stallTimeoutMs: 200, pollIntervalMs: 50 }), (e: unknown) => {
      assert.ok(hasCode(e, 'TIMEOUT'));
      assert.equal((e as JobError).details.stalled, true);
      assert.match((e as Error).message, /stalled: no worker is running/);
      return true;
    });
  });

  test('cancel: status cancelled at once, the step is aborted, the slot freed within a second', async () => {
    const library = await lib();
    const media = await addFakeMedia(library, dir, 'cancel', { stepMs: { detect: 20_000 } });
    const { analysis_job_id } = await library.videoAnalysis.queue(media);
    await until(async () => (await library.videoAnalysis.getStatus(analysis_job_id)).current_step?.startsWith('Detecting scenes ('), 5000, 'detect to start');
    const outcome = new Promise((resolve) => library.on('job', (e) => e.analysis_job_id === analysis_job_id && resolve(e.outcome)));
    const t0 = Date.now();
    const status = await library.videoAnalysis.cancel(analysis_job_id);
    assert.equal(status.status, 'cancelled');
    assert.equal(status.is_terminal, true);
    assert.equal(await outcome, 'cancelled');
    await until(() => library.runningJobIds.length === 0, 1000, 'the runner to let go');
    assert.ok(Date.now() - t0 < 1000);
    assert.equal((await library.videoAnalysis.waitForCompletion(analysis_job_id)).status, 'cancelled');
    assert.equal((await library.videoAnalysis.cancel(analysis_job_id)).status, 'cancelled', 'idempotent');
    // A cancelled job can be retried; it resumes after probe.
    await library.videoAnalysis.retry(analysis_job_id);
    await library.videoAnalysis.cancel(analysis_job_id);
    assert.equal(runsOf(analysis_job_id).filter((l) => l.includes(' probe start')).length, 1);
  });

  test('a step that ignores its abort signal is abandoned: cancel still settles and the worker moves on', async () => {
    const library = await lib();
    const stubborn = await addFakeMedia(library, dir, 'stubborn', { ignoreSignal: true, stepMs: { detect: 3000 } });
    const next = await addFakeMedia(library, dir, 'after-stubborn');
    const a = await library.videoAnalysis.queue(stubborn);
    const b = await library.videoAnalysis.queue(next);
    await until(async () => (await library.videoAnalysis.getStatus(a.analysis_job_id)).current_step?.startsWith('Detecting'), 5000, 'detect');
    await library.videoAnalysis.cancel(a.analysis_job_id);
    assert.equal((await library.videoAnalysis.waitForCompletion(b.analysis_job_id, { timeoutMs: 8000, pollIntervalMs: 20 })).status, 'completed');
    assert.equal((await library.videoAnalysis.getStatus(a.analysis_job_id)).status, 'cancelled');
    assert.equal((await library.videoScenes.list(stubborn)).total_count, 0);
  });

  test('close() mid-job hands the job back; reopening resumes at the first unfinished step with the same scenes', async () => {
    const file = newLocation();
    const first = await lib({ file });
    const media = await addFakeMedia(first, dir, 'resume', { scenes: 4, stepMs: { detect: 400, enrich: 1500 } });
    const { analysis_job_id } = await first.videoAnalysis.queue(media);
    await until(async () => (await first.videoAnalysis.getStatus(analysis_job_id)).status === 'uploading_to_vlm', 5000, 'enrich to start');
    await first.close();
    const parked = await first.store.getJob(analysis_job_id).catch(() => null);
    assert.equal(parked, null, 'the closed library refuses reads');
    const second = await lib({ file });
    const status = await second.videoAnalysis.getStatus(analysis_job_id);
    assert.equal(status.status === 'pending' || status.status === 'processing' || status.status === 'uploading_to_vlm', true);
    assert.ok(status.progress_percent > 0);
    const done = await second.videoAnalysis.waitForCompletion(analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    assert.equal(done.status, 'completed');
    const runs = runsOf(analysis_job_id);
    assert.equal(runs.filter((l) => l.includes(' detect start')).length, 1, 'detect was not repeated');
    assert.equal(runs.filter((l) => l.includes(' enrich start')).length, 2, 'enrich resumed');
    const scenes = await second.videoScenes.list(media);
    assert.deepEqual(scenes.items.map((s) => [s.scene_index, s.start_time, s.end_time]), [[0, 0, 2.52], [1, 2.52, 5], [2, 5, 7.52], [3, 7.52, 10]]);
    assert.deepEqual(await second.integrityCheck(), ['ok']);
  });

  test('a graceful close lets the running step reach its checkpoint', async () => {
    const file = newLocation();
    const library = await lib({ file });
    const media = await addFakeMedia(library, dir, 'graceful', { stepMs: { detect: 600, enrich: 5000 } });
    const { analysis_job_id } = await library.videoAnalysis.queue(media);
    await until(async () => (await library.videoAnalysis.getStatus(analysis_job_id)).current_step?.startsWith('Detecting scenes ('), 5000, 'detect');
    await library.close({ graceMs: 5000 });
    const reopened = await lib({ file, workers: 0 });
    const steps = await reopened.store.getSteps(analysis_job_id);
    assert.deepEqual(steps.map((s) => [s.step, s.status]), [['probe', 'done'], ['detect', 'done']]);
    const status = await reopened.videoAnalysis.getStatus(analysis_job_id);
    assert.equal(status.status, 'pending');
    assert.match(status.current_step ?? '', /^Interrupted at "Describing scenes"; waiting to resume$/);
  });

  test('search: a word of visible text, a tag, grouped by video; similar scenes by embedding', async () => {
    const library = await lib();
    const a = await addFakeMedia(library, dir, 'harbour', {
      scenes: 2,
      enrich: [
        { description: 'Fishing boats in a harbour at dawn', tags: ['harbour', 'boats'], visible_text: 'PORT OF LEITH', vector: [1, 0, 0, 0] },
        { description: 'A lighthouse on a cliff', tags: ['lighthouse'], visible_text: null, vector: [0.8, 0.2, 0, 0] },
      ],
    });
    const b = await addFakeMedia(library, dir, 'city', {
      scenes: 2,
      enrich: [
        { description: 'A busy street market', tags: ['market', 'crowd'], visible_text: 'FRESH FISH DAILY', vector: [0, 1, 0, 0] },
        { description: 'Trams at night', tags: ['tram'], visible_text: 'NEXT STOP LEITH', vector: [0.7, 0.3, 0, 0] },
      ],
    });
    for (const m of [a, b]) await library.videoAnalysis.waitForCompletion((await library.videoAnalysis.queue(m)).analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    const byText = await library.search.scenes('leith');
    assert.equal(byText.total_count, 2);
    assert.deepEqual(byText.items.map((g) => g.scenes.length), [1, 1]);
    assert.deepEqual(new Set(byText.items.map((g) => g.video_id)), new Set([a, b]));
    assert.match(byText.items[0]!.scenes[0]!.highlight, /\[LEITH\]/);
    const byTag = await library.search.scenes('market');
    assert.equal(byTag.items.length, 1);
    assert.equal(byTag.items[0]!.video_id, b);
    assert.equal(byTag.items[0]!.file_name, 'city.fake');
    assert.equal(byTag.items[0]!.scenes[0]!.description, 'A busy street market');
    assert.equal((await library.search.scenes('fish', { mediaIds: [a] })).total_count, 1, 'prefix "fish" matches "Fishing" in video a only');
    assert.equal((await library.search.scenes('harbour tram')).total_count, 0, 'all words must match');
    assert.equal((await library.search.scenes('harbour tram', { match: 'any' })).total_count, 2);
    await assert.rejects(library.search.scenes('  ?! '), (e: unknown) => hasCode(e, 'INVALID_OPTION'));

    const first = (await library.videoScenes.list(a)).items[0]!;
    const similar = await library.search.similar(first.scene_id, { limit: 2 });
    assert.equal(similar.model_id, 'fake-embed-v1');
    assert.deepEqual(similar.items.map((s) => s.description), ['A lighthouse on a cliff', 'Trams at night']);
    assert.ok(similar.items[0]!.score > similar.items[1]!.score);
  });

  test('export: json, csv, edl and vtt', async () => {
    const library = await lib();
    const media = await addFakeMedia(library, dir, 'export', { scenes: 2, duration: 4, enrich: [{ description: 'Opening, "quoted"', tags: ['a', 'b'] }, { description: 'End', visible_text: 'THE END' }] });
    await library.videoAnalysis.waitForCompletion((await library.videoAnalysis.queue(media)).analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    const json = JSON.parse(await library.exportScenes(media, 'json')) as Record<string, unknown>;
    assert.equal(json.schema_version, 1);
    assert.equal(json.total_count, 2);
    const csv = (await library.exportScenes(media, 'csv')).split('\r\n');
    assert.equal(csv[0], 'scene_index,scene_id,start_time,end_time,time_range_formatted,description,tags,visible_text,confidence_score,embedding_status,thumbnail_url');
    assert.match(csv[1]!, /^0,scn_\w+,0\.000,2\.000,,"Opening, ""quoted""",a; b,,0\.8,pending,$/);
    const edl = await library.exportScenes(media, 'edl');
    assert.match(edl, /^TITLE: export\.fake\nFCM: NON-DROP FRAME\n\n001  AX       V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00\n/);
    assert.match(edl, /002 {2}AX {7}V {5}C {8}00:00:02:00 00:00:04:00/);
    const vtt = await library.exportScenes(media, 'vtt');
    assert.match(vtt, /^WEBVTT\n\nscn_\w+\n00:00:00\.000 --> 00:00:02\.000\nScene 1: Opening, "quoted"\n\nscn_\w+\n00:00:02\.000 --> 00:00:04\.000\nScene 2: End\nText: THE END\n$/);
    await assert.rejects(library.exportScenes(media, 'xml' as 'json'), (e: unknown) => hasCode(e, 'INVALID_OPTION'));
  });

  test('progress shares follow measured step costs once every step is measured, and never go down', () => {
    const steps = [{ name: 'probe' as const, weight: 1 }, { name: 'detect' as const, weight: 6 }, { name: 'enrich' as const, weight: 3 }];
    const fixed = new ProgressTracker(steps, null, 0, 10, 0);
    assert.deepEqual(fixed.shares.map((x) => Math.round(x)), [10, 60, 30]);
    const measured = new ProgressTracker(steps, { samples: 3, videoSecondsPerSecond: 2, meanJobMs: 5000, stepMsPerVideoSecond: { probe: 10, detect: 150, enrich: 40 } }, 0, 10, 0);
    assert.deepEqual(measured.shares.map((x) => Math.round(x)), [5, 75, 20]);
    const partial = new ProgressTracker(steps, { samples: 1, videoSecondsPerSecond: 2, meanJobMs: 5000, stepMsPerVideoSecond: { probe: 10, detect: 150 } }, 0, 10, 0);
    assert.deepEqual(partial.shares.map((x) => Math.round(x)), [10, 60, 30], 'an unmeasured step keeps the static weights');
    measured.enterStep(1);
    assert.equal(Math.round(measured.update(0.5)), 43);
    assert.equal(Math.round(measured.update(0.2)), 43, 'a smaller fraction does not lower progress');
    assert.equal(Math.round(measured.finishStep(1)), 80);
    // ETA from the measured speed before progress has moved, then from the observed rate.
    const fresh = new ProgressTracker(steps, { samples: 3, videoSecondsPerSecond: 2, meanJobMs: 5000, stepMsPerVideoSecond: {} }, 0, 10, 1000);
    assert.equal(fresh.eta(1000), 6000);
    fresh.enterStep(1);
    fresh.update(0.5);
    assert.equal(fresh.eta(2000), 2000 + Math.round((1000 * 60) / 40));
  });

  test('openLibrary({ store, assetsDir }) runs on a store built elsewhere', async () => {
    const store = openSqliteStore(path.join(dir, 'external.db'));
    const library = await openLibrary({ store, assetsDir: path.join(dir, 'external-assets'), pipeline, pollMs: 50 });
    open.push(library);
    assert.equal(library.path, store.location);
    assert.equal(library.assetsDir, path.join(dir, 'external-assets'));
    const media = await addFakeMedia(library, dir, 'external');
    const done = await library.videoAnalysis.waitForCompletion((await library.videoAnalysis.queue(media)).analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    assert.equal(done.status, 'completed');
    await library.close();
    await assert.rejects(store.getJob(done.analysis_job_id), (e: unknown) => hasCode(e, 'STORE_FAILED'), 'the library closed its store');
  });

  test('options are validated at the boundary', async () => {
    await assert.rejects(openLibrary({ path: path.join(dir, 'x.db'), workes: 2 } as never), (e: unknown) => hasCode(e, 'INVALID_OPTION') && /Unknown option "workes" in openLibrary options; did you mean "workers"\?/.test((e as Error).message));
    await assert.rejects(openLibrary({ path: path.join(dir, 'x.db'), leaseMs: 300, heartbeatMs: 200 }), (e: unknown) => hasCode(e, 'INVALID_OPTION'));
    writeFileSync(path.join(dir, 'not-a-db.db'), 'hello, this is not SQLite at all, not even close to it.....................................................');
    await assert.rejects(openLibrary({ path: path.join(dir, 'not-a-db.db') }), (e: unknown) => hasCode(e, 'STORE_FAILED'));
  });
}

suite('library jobs (in-process workers, fake pipeline): SQLite', () => {
  before(() => {
    newLocation = () => path.join(dir, `lib-${++n}.db`);
  });
  jobSuite();
});

const pgSkip = pgUnavailable();
let server: PgServer | null = null;

suite('library jobs (in-process workers, fake pipeline): PostgreSQL', { skip: pgSkip ?? false }, () => {
  before(async () => {
    server = await startPgServer();
    newLocation = () => server!.database();
  });
  after(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    server?.stop();
  });
  jobSuite();
});
