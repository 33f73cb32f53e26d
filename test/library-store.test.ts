/**
 * One contract, two stores: the job store and catalog cases run against SQLite (real files in a temp folder,
 * several connections to one file) and against a real PostgreSQL server this file starts itself
 * (test/helpers/pg-server.ts; skipped with the reason when PostgreSQL is not installed). Then what only one of
 * them has: SQLite's pragmas and file migrations, PostgreSQL's migration lock, assets and notifications.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { hasCode } from '../src/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/migrations.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../src/store/pg-migrations.js';
import { openPgStore } from '../src/store/pg-store.js';
import { openSqliteStore, type SqliteLibraryStore } from '../src/store/sqlite-store.js';
import type { JobChange, LibraryStore, MediaRecord, StepCompletion } from '../src/store/types.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function freshStore(): { store: SqliteLibraryStore; file: string } {
  const file = path.join(dir, `lib-${++counter}.db`);
  return { store: openSqliteStore(file), file };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function addMedia(store: LibraryStore, id = `med_${++counter}`, duration: number | null = 10): Promise<string> {
  const now = Date.now();
  const record: MediaRecord = {
    media_id: id,
    file_path: `/videos/${id}.mp4`,
    source_path: `/videos/${id}.mp4`,
    file_name: `${id}.mp4`,
    copied: false,
    sha256: null,
    file_size_bytes: 1000,
    upload_status: 'completed',
    video_metadata: duration === null ? null : { duration_seconds: duration, resolution: null, width: null, height: null, frame_rate: 25, video_codec: null, audio_codec: null, bitrate_kbps: null, file_size_bytes: 1000, format_name: 'mp4' },
    poster_path: null,
    error_code: null,
    error_message: null,
    owner: null,
    created_at: now,
    updated_at: now,
  };
  await store.insertMedia(record);
  return id;
}

function completion(step: string, stepIndex: number, extra: Partial<StepCompletion> = {}): StepCompletion {
  return { step, stepIndex, output: { step }, durationMs: 10, progressPercent: 10 * (stepIndex + 1), currentStep: `after ${step}`, estimatedCompletionAt: null, leaseMs: 5000, ...extra };
}

const twoScenes = [
  { scene_index: 0, start_time: 0, end_time: 4, time_range_formatted: '00:00:00.000-00:00:04.000' },
  { scene_index: 1, start_time: 4, end_time: 10, time_range_formatted: '00:00:04.000-00:00:10.000' },
];

/** Run a job through detect + enrich to completion. */
async function completeWithText(store: LibraryStore, mediaId: string, texts: Array<{ description: string; tags: string[]; visible_text: string | null; vector?: number[]; model?: string }>): Promise<string> {
  await store.enqueue({ mediaId, analysisType: 'full', priority: 0, maxRetries: 3 });
  const claim = await store.claim({ workerId: 'w', leaseMs: 5000, jobIds: [(await store.getLatestJob(mediaId))!.job_id] });
  assert.ok(claim);
  const scenes = texts.map((_, i) => ({ scene_index: i, start_time: i * 2, end_time: i * 2 + 2 }));
  assert.equal(await store.completeStep(claim.job.job_id, claim.token, completion('detect', 1, { effects: { scenes } })), true);
  const updates = texts.map((t, i) => ({
    scene_index: i,
    description: t.description,
    tags: t.tags,
    visible_text: t.visible_text,
    ...(t.vector ? { embedding: { model_id: t.model ?? 'm1', vector: t.vector } } : {}),
  }));
  assert.equal(await store.completeStep(claim.job.job_id, claim.token, completion('enrich', 2, { effects: { sceneUpdates: updates } })), true);
  assert.ok(await store.completeJob(claim.job.job_id, claim.token, 'Completed'));
  return claim.job.job_id;
}

/** A store under test and a way to open a second connection to the same data. */
interface Backend {
  fresh(): Promise<{ store: LibraryStore; reopen: () => Promise<LibraryStore> }>;
}

function contract(backend: Backend): void {
  test('enqueue is idempotent while a job is active, and refuses unknown media', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    const first = await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    const second = await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.job.job_id, first.job.job_id);
    await assert.rejects(store.enqueue({ mediaId: 'med_missing', analysisType: 'full', priority: 0, maxRetries: 3 }), (e: unknown) => hasCode(e, 'NOT_FOUND'));
    store.close();
  });

  test('claims are atomic across connections: each job goes to exactly one worker', async () => {
    const { store, reopen } = await backend.fresh();
    const other = await reopen();
    for (let i = 0; i < 6; i++) await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    const got: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const s of [store, other]) {
        const claim = await s.claim({ workerId: s === store ? 'a' : 'b', leaseMs: 5000 });
        if (claim !== null) got.push(claim.job.job_id);
      }
    }
    assert.equal(got.length, 6);
    assert.equal(new Set(got).size, 6);
    assert.equal(await store.claim({ workerId: 'a', leaseMs: 5000 }), null);
    other.close();
    store.close();
  });

  test('claim order is priority first, then queue order', async () => {
    const { store } = await backend.fresh();
    const low = await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    const high = await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 5, maxRetries: 3 });
    assert.equal((await store.claim({ workerId: 'w', leaseMs: 5000 }))?.job.job_id, high.job.job_id);
    assert.equal((await store.claim({ workerId: 'w', leaseMs: 5000 }))?.job.job_id, low.job.job_id);
    store.close();
  });

  test('an expired lease is taken over (by the store clock); the old holder can no longer write', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    // Real time on the store's own clock (PostgreSQL's is the server's): long enough to hold under load.
    const first = await store.claim({ workerId: 'a', leaseMs: 1500 });
    assert.ok(first);
    assert.equal(await store.completeStep(first.job.job_id, first.token, completion('probe', 0, { leaseMs: 1500 })), true);
    assert.equal(await store.claim({ workerId: 'b', leaseMs: 1500 }), null, 'lease still valid');
    await sleep(1700);
    const second = await store.claim({ workerId: 'b', leaseMs: 5000 });
    assert.ok(second);
    assert.equal(second.resumed, true);
    assert.deepEqual(second.doneSteps.map((s) => s.step), ['probe']);
    assert.deepEqual(second.doneSteps[0]!.output, { step: 'probe' });
    assert.equal(await store.heartbeat(first.job.job_id, first.token, 1000), 'lost');
    assert.equal(await store.completeStep(first.job.job_id, first.token, completion('detect', 1, { effects: { scenes: twoScenes } })), false);
    assert.equal(await store.heartbeat(second.job.job_id, second.token, 1000), 'ok');
    store.close();
  });

  test('a job whose worker keeps dying fails with WORKER_FAILED after 3 lost leases', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    const { job } = await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    for (let i = 0; i < 3; i++) {
      assert.ok(await store.claim({ workerId: `w${i}`, leaseMs: 200 }));
      await sleep(300);
    }
    assert.equal(await store.claim({ workerId: 'w3', leaseMs: 1000 }), null);
    const failed = await store.getJob(job.job_id);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.error_code, 'WORKER_FAILED');
    store.close();
  });

  test('a step writes output, scenes and progress in one transaction; a failing write leaves nothing behind', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    const duplicate = [twoScenes[0]!, twoScenes[0]!];
    await assert.rejects(store.completeStep(claim.job.job_id, claim.token, completion('detect', 1, { progressPercent: 60, effects: { scenes: duplicate } })), (e: unknown) => hasCode(e, 'STORE_FAILED'));
    assert.deepEqual(await store.getSteps(claim.job.job_id), []);
    assert.equal((await store.getJob(claim.job.job_id))!.progress_percent, 0);
    assert.equal((await store.stats()).scenes, 0);
    assert.equal(await store.completeStep(claim.job.job_id, claim.token, completion('detect', 1, { progressPercent: 60, effects: { scenes: twoScenes } })), true);
    // A resumed step that writes its scenes again replaces them.
    assert.equal(await store.completeStep(claim.job.job_id, claim.token, completion('detect', 1, { progressPercent: 60, effects: { scenes: twoScenes } })), true);
    assert.equal((await store.stats()).scenes, 2);
    const job = (await store.getJob(claim.job.job_id))!;
    assert.equal(job.progress_percent, 60);
    assert.equal(job.current_step, 'after detect');
    assert.deepEqual((await store.getSteps(claim.job.job_id)).map((s) => [s.step, s.status]), [['detect', 'done']]);
    store.close();
  });

  test('progress never goes down', async () => {
    const { store } = await backend.fresh();
    await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    await store.heartbeat(claim.job.job_id, claim.token, 5000, { progressPercent: 40, currentStep: 'a', estimatedCompletionAt: null });
    await store.heartbeat(claim.job.job_id, claim.token, 5000, { progressPercent: 20, currentStep: 'b', estimatedCompletionAt: null });
    assert.equal((await store.getJob(claim.job.job_id))!.progress_percent, 40);
    store.close();
  });

  test('scenes are visible only once their job completes, and a new completed analysis replaces them', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    const { job } = await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    await store.completeStep(job.job_id, claim.token, completion('detect', 1, { effects: { scenes: twoScenes } }));
    assert.deepEqual(await store.listScenes(media, { limit: 10, offset: 0 }), { items: [], total: 0 });
    await store.completeJob(job.job_id, claim.token, 'Completed');
    assert.equal((await store.listScenes(media, { limit: 10, offset: 0 })).total, 2);
    const second = await completeWithText(store, media, [{ description: 'only one', tags: [], visible_text: null }]);
    const list = await store.listScenes(media, { limit: 10, offset: 0 });
    assert.equal(list.total, 1);
    assert.equal(list.items[0]!.job_id, second);
    assert.equal((await store.stats()).scenes, 1, 'the first analysis scenes were dropped');
    store.close();
  });

  test('cancel and retry follow the hosted rules', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    const { job } = await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    await assert.rejects(store.retryJob(job.job_id), (e: unknown) => hasCode(e, 'INVALID_STATE') && /only failed or cancelled/.test((e as Error).message));
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    const cancelled = await store.cancelJob(job.job_id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(await store.heartbeat(job.job_id, claim.token, 5000), 'cancelled');
    assert.equal(await store.completeStep(job.job_id, claim.token, completion('probe', 0)), false);
    assert.equal((await store.cancelJob(job.job_id)).status, 'cancelled', 'cancel is idempotent');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const retried = await store.retryJob(job.job_id);
      assert.equal(retried.status, 'pending');
      assert.equal(retried.retry_count, attempt);
      assert.equal(retried.current_step, `Queued (retry ${attempt}/3)`);
      const c = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
      assert.ok(await store.failJob(job.job_id, c.token, 'DECODE_FAILED', 'broken'));
    }
    await assert.rejects(store.retryJob(job.job_id), (e: unknown) => hasCode(e, 'RETRY_LIMIT') && /retried 3 times \(max_retries 3\)/.test((e as Error).message));
    await assert.rejects(store.cancelJob(job.job_id), (e: unknown) => hasCode(e, 'INVALID_STATE'));
    await assert.rejects(store.cancelJob('job_nope'), (e: unknown) => hasCode(e, 'NOT_FOUND'));
    store.close();
  });

  test('release after a shutdown puts the job back at the head of the queue with its finished steps', async () => {
    const { store } = await backend.fresh();
    const a = await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    assert.equal(claim.job.job_id, a.job.job_id);
    await store.completeStep(claim.job.job_id, claim.token, completion('probe', 0));
    assert.ok(await store.releaseJob(claim.job.job_id, claim.token, 'Interrupted'));
    const again = (await store.claim({ workerId: 'v', leaseMs: 5000 }))!;
    assert.equal(again.job.job_id, a.job.job_id);
    assert.equal(again.resumed, false);
    assert.deepEqual(again.doneSteps.map((s) => s.step), ['probe']);
    store.close();
  });

  test('full-text search finds scenes by a word of their visible text and by a tag, ranked, completed jobs only', async () => {
    const { store } = await backend.fresh();
    const m1 = await addMedia(store);
    const m2 = await addMedia(store);
    await completeWithText(store, m1, [
      { description: 'A harbour at dawn with fishing boats', tags: ['harbour', 'boats'], visible_text: 'PORT AUTHORITY' },
      { description: 'A crowded street market', tags: ['market', 'people'], visible_text: null },
    ]);
    await completeWithText(store, m2, [{ description: 'People dancing', tags: ['festival'], visible_text: 'WELCOME TO CARNIVAL' }]);
    const running = await addMedia(store);
    await store.enqueue({ mediaId: running, analysisType: 'full', priority: 0, maxRetries: 3 });
    const c = (await store.claim({ workerId: 'w', leaseMs: 5000, jobIds: [(await store.getLatestJob(running))!.job_id] }))!;
    await store.completeStep(c.job.job_id, c.token, completion('detect', 1, { effects: { scenes: [twoScenes[0]!] } }));
    await store.completeStep(c.job.job_id, c.token, completion('enrich', 2, { effects: { sceneUpdates: [{ scene_index: 0, tags: ['festival'], visible_text: 'carnival' }] } }));

    const byText = await store.searchScenes({ words: ['carnival'], match: 'all' }, { limit: 10 });
    assert.equal(byText.total, 1, 'the running job scene is not searchable yet');
    assert.equal(byText.hits[0]!.scene.media_id, m2);
    assert.match(byText.hits[0]!.snippet, /\[CARNIVAL\]/);
    const byTag = await store.searchScenes({ words: ['market'], match: 'all' }, { limit: 10 });
    assert.equal(byTag.hits[0]!.scene.description, 'A crowded street market');
    const scoped = await store.searchScenes({ words: ['people'], match: 'all' }, { limit: 10, mediaIds: [m1] });
    assert.deepEqual(scoped.hits.map((h) => h.scene.media_id), [m1]);
    store.close();
  });

  test('similar scenes: cosine similarity over the same model only', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store);
    await completeWithText(store, media, [
      { description: 'q', tags: [], visible_text: null, vector: [1, 0, 0] },
      { description: 'close', tags: [], visible_text: null, vector: [0.9, 0.1, 0] },
      { description: 'far', tags: [], visible_text: null, vector: [0, 0, 1] },
      { description: 'other model', tags: [], visible_text: null, vector: [1, 0, 0], model: 'm2' },
    ]);
    const scenes = (await store.listScenes(media, { limit: 10, offset: 0 })).items;
    assert.equal(scenes[0]!.embedding_status, 'completed');
    const hits = await store.similarScenes(scenes[0]!.scene_id, 'm1', { limit: 5 });
    assert.deepEqual(hits.map((h) => h.scene.description), ['close', 'far']);
    assert.ok(hits[0]!.score > 0.99 && hits[0]!.score < 1);
    assert.ok(Math.abs(hits[1]!.score) < 1e-9);
    assert.deepEqual(await store.sceneEmbeddingModels(scenes[3]!.scene_id), [{ model_id: 'm2', dimension: 3 }]);
    store.close();
  });

  test('settleHash returns the existing record for duplicate content and drops the new row', async () => {
    const { store } = await backend.fresh();
    const a = await addMedia(store);
    const b = await addMedia(store);
    assert.equal((await store.settleHash(a, 'abc', { upload_status: 'processing' })).duplicate, false);
    const dup = await store.settleHash(b, 'abc', { upload_status: 'processing' });
    assert.equal(dup.duplicate, true);
    assert.equal(dup.media.media_id, a);
    assert.equal(await store.getMedia(b), null);
    store.close();
  });

  test('uploads left unfinished by a dead process are marked aborted on open', async () => {
    const { store } = await backend.fresh();
    const id = await addMedia(store);
    await store.updateMedia(id, { upload_status: 'processing', owner: 'host1:999999' });
    const live = await addMedia(store);
    await store.updateMedia(live, { upload_status: 'uploading', owner: `host1:${process.pid}` });
    assert.equal(await store.abortOrphanUploads('host1', (pid) => pid === process.pid), 1);
    assert.equal((await store.getMedia(id))!.upload_status, 'aborted');
    assert.equal((await store.getMedia(live))!.upload_status, 'uploading');
    store.close();
  });

  test('speed statistics come from completed jobs', async () => {
    const { store } = await backend.fresh();
    const media = await addMedia(store, undefined, 20);
    await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    const c = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    await store.completeStep(c.job.job_id, c.token, completion('probe', 0, { durationMs: 1000, effects: { metadata: { duration_seconds: 20, resolution: null, width: null, height: null, frame_rate: null, video_codec: null, audio_codec: null, bitrate_kbps: null, file_size_bytes: null, format_name: null } } }));
    await store.completeStep(c.job.job_id, c.token, completion('detect', 1, { durationMs: 4000 }));
    await store.completeJob(c.job.job_id, c.token, 'Completed');
    const speed = await store.speedStats();
    assert.equal(speed.samples, 1);
    assert.equal(speed.videoSecondsPerSecond, 4);
    assert.equal(speed.meanJobMs, 5000);
    assert.deepEqual(speed.stepMsPerVideoSecond, { probe: 50, detect: 200 });
    store.close();
  });

  test('scene text lines, tag scores and the degraded list are stored and read back as analyze returns them', async () => {
    const { store, reopen } = await backend.fresh();
    const mediaId = await addMedia(store);
    const { job } = await store.enqueue({ mediaId, analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000, jobIds: [job.job_id] }))!;
    assert.equal(await store.completeStep(job.job_id, claim.token, completion('detect', 1, { effects: { scenes: twoScenes } })), true);
    const lines = [
      { text: 'HARBOUR NEWS', first_seen: 0.5, last_seen: 3.5, engine: 'ppocr', confidence: 0.971, persistent: false },
      { text: 'LIVE', first_seen: 0, last_seen: 4, engine: 'tesseract', confidence: 0.62, persistent: true },
    ];
    const scores = [{ tag: 'harbour', score: 0.82, source: 'labels' }, { tag: 'blue', score: 1, source: 'visual' }];
    const degraded = [{ model: 'ssdlite-mobilenet', status: 'missing', feature: 'objects and people', reason: 'not installed', install: 'scenescope models fetch ssdlite-mobilenet', optional: false }];
    const updates = [
      { scene_index: 0, visible_text: 'HARBOUR NEWS\nLIVE', text_lines: lines, tag_scores: scores },
      { scene_index: 1, text_lines: null, tag_scores: [] },
    ];
    assert.equal(await store.completeStep(job.job_id, claim.token, completion('enrich', 2, { effects: { sceneUpdates: updates, degraded } })), true);
    assert.ok(await store.completeJob(job.job_id, claim.token, 'Completed'));
    const other = await reopen();
    const { items } = await other.listScenes(mediaId, { limit: 10, offset: 0 });
    assert.deepEqual(items.map((s) => s.text_lines), [lines, null]);
    assert.deepEqual(items.map((s) => s.tag_scores), [scores, []]);
    assert.deepEqual((await other.getJob(job.job_id))!.degraded, degraded);
    // A later update that leaves them out keeps them.
    assert.deepEqual((await other.getScene(items[0]!.scene_id))!.text_lines, lines);
    other.close();
    store.close();
  });

  test('chunks: planned once per plan, claimed by one worker each across connections, leased, failed and done', async () => {
    const { store, reopen } = await backend.fresh();
    const other = await reopen();
    const mediaId = await addMedia(store);
    const { job } = await store.enqueue({ mediaId, analysisType: 'full', priority: 0, maxRetries: 3 });
    const holder = (await store.claim({ workerId: 'h', leaseMs: 5000 }))!;
    const specs = [{ i: 0, seek: 0 }, { i: 1, seek: 20.02 }, { i: 2, seek: 40.02 }];
    assert.equal(await store.planChunks(job.job_id, 'clm_wrong', specs), false);
    assert.equal(await store.planChunks(job.job_id, holder.token, specs), true);
    const a = (await store.claimChunk({ workerId: 'a', leaseMs: 5000 }))!;
    const b = (await other.claimChunk({ workerId: 'b', leaseMs: 5000 }))!;
    const c = (await other.claimChunk({ workerId: 'b', leaseMs: 60 }))!;
    assert.deepEqual([a.chunk_index, b.chunk_index, c.chunk_index], [0, 1, 2]);
    assert.deepEqual(b.spec, specs[1]);
    assert.equal(a.file_path, `/videos/${mediaId}.mp4`);
    assert.equal(await store.claimChunk({ workerId: 'a', leaseMs: 5000 }), null);
    assert.equal(await store.heartbeatChunk(job.job_id, 0, a.token, 5000, 0.5), 'ok');
    assert.equal(await store.completeChunk(job.job_id, 0, a.token, Buffer.from([1, 2, 3]), 12), true);
    assert.equal(await store.completeChunk(job.job_id, 0, a.token, Buffer.from([9]), 12), false, 'a done chunk is not written twice');
    assert.equal(await other.failChunk(job.job_id, 1, b.token, 'DECODE_FAILED', 'bad'), true);
    // Chunk 2's lease (60 ms) expires: another worker takes it over and the old holder is out.
    await sleep(150);
    const taken = (await store.claimChunk({ workerId: 'a', leaseMs: 5000 }))!;
    assert.equal(taken.chunk_index, 2);
    assert.equal(await other.heartbeatChunk(job.job_id, 2, c.token, 5000, 0.1), 'lost');
    const listed = await other.listChunks(job.job_id);
    assert.deepEqual(listed.map((x) => [x.status, x.worker_id, x.attempts]), [['done', 'a', 1], ['failed', 'b', 1], ['running', 'a', 2]]);
    assert.equal(listed[1]!.error_code, 'DECODE_FAILED');
    assert.deepEqual(await other.readChunk(job.job_id, 0), Buffer.from([1, 2, 3]));
    assert.equal(await other.readChunk(job.job_id, 1), null);
    // The same plan again (a resumed holder) keeps the done chunk and re-queues the failed one.
    assert.equal(await store.planChunks(job.job_id, holder.token, specs), true);
    assert.deepEqual((await store.listChunks(job.job_id)).map((x) => x.status), ['done', 'pending', 'running']);
    assert.equal(await store.releaseChunk(job.job_id, 2, taken.token), true);
    // A cancelled job stops its chunks and offers none.
    await other.cancelJob(job.job_id);
    assert.equal(await store.claimChunk({ workerId: 'a', leaseMs: 5000 }), null);
    const retried = await store.retryJob(job.job_id);
    assert.equal(retried.status, 'pending');
    const again = (await store.claim({ workerId: 'h', leaseMs: 5000 }))!;
    assert.equal(await store.planChunks(job.job_id, again.token, specs), true);
    assert.deepEqual((await store.listChunks(job.job_id)).map((x) => x.status), ['done', 'pending', 'pending']);
    // The detect step that merges them drops them with its output, in one transaction.
    assert.equal(await store.completeStep(job.job_id, again.token, completion('detect', 1, { effects: { scenes: twoScenes, clearChunks: true } })), true);
    assert.deepEqual(await store.listChunks(job.job_id), []);
    other.close();
    store.close();
  });

  test('chunk inputs: stored with the plan, handed to every claimer, kept by the same plan, replaced by another', async () => {
    const { store, reopen } = await backend.fresh();
    const other = await reopen();
    const mediaId = await addMedia(store);
    const { job } = await store.enqueue({ mediaId, analysisType: 'full', priority: 0, maxRetries: 3 });
    const holder = (await store.claim({ workerId: 'h', leaseMs: 5000 }))!;
    const specs = [{ kind: 'enrich', chunk_index: 0 }, { kind: 'enrich', chunk_index: 1 }];
    const inputs = [Buffer.from([0, 1, 2, 250, 255]), null];
    assert.equal(await store.planChunks(job.job_id, holder.token, specs, inputs), true);
    const a = (await other.claimChunk({ workerId: 'a', leaseMs: 60 }))!;
    const b = (await other.claimChunk({ workerId: 'b', leaseMs: 5000 }))!;
    assert.deepEqual([a.input, b.input], inputs);
    // A worker that takes over an expired chunk gets the same input.
    await sleep(150);
    const taken = (await store.claimChunk({ workerId: 'c', leaseMs: 5000 }))!;
    assert.deepEqual([taken.chunk_index, taken.input], [0, inputs[0]]);
    assert.equal(await store.releaseChunk(job.job_id, 0, taken.token), true);
    // The same plan again (a holder on a host without the inputs) keeps the stored ones.
    assert.equal(await store.planChunks(job.job_id, holder.token, specs, [null, null]), true);
    assert.deepEqual((await other.claimChunk({ workerId: 'a', leaseMs: 5000 }))!.input, inputs[0]);
    // Another plan replaces chunks and inputs; listing never returns them.
    assert.equal(await store.planChunks(job.job_id, holder.token, [{ kind: 'enrich', chunk_index: 0, other: true }], [Buffer.from('x')]), true);
    assert.deepEqual((await other.claimChunk({ workerId: 'a', leaseMs: 5000 }))!.input, Buffer.from('x'));
    assert.ok((await store.listChunks(job.job_id)).every((c) => !('input' in c)));
    other.close();
    store.close();
  });

  test('integrity_check is ok after all of the above', async () => {
    const { store } = await backend.fresh();
    await completeWithText(store, await addMedia(store), [{ description: 'x', tags: ['y'], visible_text: 'z', vector: [1, 2] }]);
    assert.deepEqual(await store.integrityCheck(), ['ok']);
    store.close();
  });
}

suite('library store contract: SQLite', () => {
  contract({
    async fresh() {
      const { store, file } = freshStore();
      return { store, reopen: async () => openSqliteStore(file) };
    },
  });
});

const pgSkip = pgUnavailable();
/** One throwaway server for both PostgreSQL suites of this file (a database per test). */
let server: PgServer | null = null;
after(() => server?.stop());

suite('library store contract: PostgreSQL', { skip: pgSkip ?? false }, () => {
  before(async () => {
    server ??= await startPgServer();
  });
  contract({
    async fresh() {
      const url = server!.database();
      return { store: await openPgStore(url), reopen: () => openPgStore(url) };
    },
  });
});

suite('library store (SQLite only)', () => {
  test('opening sets WAL, a busy timeout and foreign keys, and applies the migrations once', async () => {
    const { store, file } = freshStore();
    assert.deepEqual(store.pragmas(), { journal_mode: 'wal', busy_timeout: 5000, foreign_keys: 1, user_version: SCHEMA_VERSION });
    store.close();
    const again = openSqliteStore(file);
    again.close();
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT version, name FROM schema_migrations').all() as Array<{ version: number; name: string }>;
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    const tables = (raw.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    for (const table of ['media', 'jobs', 'job_steps', 'scenes', 'embeddings', 'scenes_fts', 'workers']) assert.ok(tables.includes(table), table);
    raw.close();
  });

  test('a database from a newer version is refused with STORE_FAILED', () => {
    const file = path.join(dir, 'newer.db');
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    assert.throws(() => openSqliteStore(file), (error: unknown) => hasCode(error, 'STORE_FAILED') && /schema version 99, newer/.test((error as Error).message));
  });

  test('a later migration is applied on open to an existing database', () => {
    const { store, file } = freshStore();
    store.close();
    const extra = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'test column', sql: 'ALTER TABLE media ADD COLUMN note TEXT;' }];
    const upgraded = openSqliteStore(file, { migrations: extra });
    assert.equal(upgraded.pragmas().user_version, SCHEMA_VERSION + 1);
    upgraded.close();
  });

});

suite('library store (PostgreSQL only)', { skip: pgSkip ?? false }, () => {
  before(async () => {
    server ??= await startPgServer();
  });

  test('migrations are versioned, applied once even when several hosts open a fresh database at once', async () => {
    const url = server!.database();
    const stores = await Promise.all([openPgStore(url), openPgStore(url), openPgStore(url)]);
    assert.equal(await stores[0]!.schemaVersion(), PG_SCHEMA_VERSION);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = (await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows as Array<{ version: number }>;
    assert.deepEqual(rows.map((r) => r.version), PG_MIGRATIONS.map((m) => m.version));
    await client.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`);
    await client.end();
    for (const s of stores) s.close();
    await assert.rejects(openPgStore(url), (e: unknown) => hasCode(e, 'STORE_FAILED') && /schema version 99, newer/.test((e as Error).message));
  });

  test('a later migration is applied on open to an existing database', async () => {
    const url = server!.database();
    (await openPgStore(url)).close();
    const extra = [...PG_MIGRATIONS, { version: PG_SCHEMA_VERSION + 1, name: 'test column', sql: 'ALTER TABLE media ADD COLUMN note text;' }];
    const upgraded = await openPgStore(url, { migrations: extra });
    assert.equal(await upgraded.schemaVersion(), PG_SCHEMA_VERSION + 1);
    upgraded.close();
  });

  test('an unreachable server fails with STORE_FAILED naming the URL without its password', async () => {
    await assert.rejects(openPgStore('postgres://me:secret@127.0.0.1:1/nothing', { connectTimeoutMs: 2000 }), (e: unknown) => hasCode(e, 'STORE_FAILED') && /127\.0\.0\.1:1/.test((e as Error).message) && !/secret/.test((e as Error).message));
  });

  test('leases are measured on the server clock', async () => {
    const url = server!.database();
    const store = await openPgStore(url);
    await store.enqueue({ mediaId: await addMedia(store), analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 60_000 }))!;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const serverNow = Number((await client.query('SELECT scenescope_now_ms() AS now')).rows[0].now);
    await client.end();
    assert.ok(Math.abs(claim.job.lease_expires_at! - (serverNow + 60_000)) < 2000, `${claim.job.lease_expires_at} vs ${serverNow}`);
    store.close();
  });

  test('concurrent claims from many connections never give one job twice (SKIP LOCKED)', async () => {
    const url = server!.database();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url)));
    for (let i = 0; i < 10; i++) await stores[0]!.enqueue({ mediaId: await addMedia(stores[0]!), analysisType: 'full', priority: 0, maxRetries: 3 });
    const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => stores[i % 4]!.claim({ workerId: `w${i}`, leaseMs: 5000 })));
    const got = claims.filter((c) => c !== null).map((c) => c!.job.job_id);
    assert.equal(got.length, 10);
    assert.equal(new Set(got).size, 10);
    for (const s of stores) s.close();
  });

  test('thumbnails are stored in the database by content and read back from another connection', async () => {
    const url = server!.database();
    const store = await openPgStore(url);
    const media = await addMedia(store);
    await store.enqueue({ mediaId: media, analysisType: 'full', priority: 0, maxRetries: 3 });
    const claim = (await store.claim({ workerId: 'w', leaseMs: 5000 }))!;
    await store.completeStep(claim.job.job_id, claim.token, completion('detect', 1, { effects: { scenes: twoScenes } }));
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
    const file = path.join(dir, 'thumb-0.jpg');
    writeFileSync(file, jpeg);
    await store.completeStep(claim.job.job_id, claim.token, completion('enrich', 2, { effects: { sceneUpdates: [{ scene_index: 0, thumbnail_path: file }, { scene_index: 1, thumbnail_path: file }] } }));
    await store.completeJob(claim.job.job_id, claim.token, 'Completed');
    rmSync(file);
    const other = await openPgStore(url);
    const scenes = (await other.listScenes(media, { limit: 10, offset: 0 })).items;
    assert.match(scenes[0]!.thumbnail_path!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(scenes[0]!.thumbnail_path, scenes[1]!.thumbnail_path, 'same bytes, one asset');
    assert.deepEqual(await other.readAsset(scenes[0]!.thumbnail_path!), jpeg);
    assert.equal(await other.readAsset('/etc/passwd'), null);
    assert.deepEqual(await other.integrityCheck(), ['ok']);
    other.close();
    store.close();
  });

  test('job changes reach other connections as notifications (LISTEN/NOTIFY)', async () => {
    const url = server!.database();
    const writer = await openPgStore(url);
    const watcher = await openPgStore(url);
    const seen: JobChange[] = [];
    const stop = watcher.watchJobs((change) => seen.push(change));
    await new Promise((r) => setTimeout(r, 300));
    const { job } = await writer.enqueue({ mediaId: await addMedia(writer), analysisType: 'full', priority: 0, maxRetries: 3 });
    await writer.cancelJob(job.job_id);
    const deadline = Date.now() + 3000;
    while (seen.filter((c) => c.jobId === job.job_id).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen.filter((c) => c.jobId === job.job_id).map((c) => c.status), ['pending', 'cancelled']);
    stop();
    watcher.close();
    writer.close();
  });
});
