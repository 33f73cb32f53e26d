/**
 * The enrich step of a long video in chunks: a generated 32 s clip (eight 4 s shots, keyframes every 2 s, titles
 * on three shots and a logo over the whole clip) with a 10 s span gives 4 detect chunks and 3 enrich chunks.
 * Two runners share the library (SQLite, and a throwaway PostgreSQL server when installed), both take enrich
 * chunks, and every scene's enrichment (text, text lines, tags, tag scores, description, embedding, confidence,
 * errors) and thumbnail (name and bytes) must equal what one worker with chunking off produces. A chunk whose
 * worker dies (its lease expires) is redone by another worker; a cancel stops the step and its chunks.
 * Skipped with the reason when ffmpeg cannot draw text, PostgreSQL is not installed, or the models are absent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import Database from 'better-sqlite3';
import { createDefaultPipeline, type DefaultPipelineOptions } from '../src/jobs/default-pipeline.js';
import type { AnalysisPipeline } from '../src/jobs/pipeline.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { modelsSkipReason, SHARED_MODELS } from './enrich-fixtures.js';
import { ffmpegOrNull, until } from './library-helpers.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const ffmpeg = ffmpegOrNull();
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-enrich-chunks-'));
const clip = path.join(dir, 'long.mp4');
const SPAN = 10;
let server: PgServer | null = null;
let skip: string | null = ffmpeg === null ? 'ffmpeg is not available' : null;

const SHOTS = ['testsrc2', 'smptebars', 'rgbtestsrc', 'testsrc', 'smptehdbars', 'color=c=0x224488', 'yuvtestsrc', 'color=c=0x886622'];
const TITLES: Record<number, string> = { 1: 'HARBOUR VIEW', 4: 'NIGHT TRAIN', 6: 'MARKET DAY' };

/** Eight 4 s shots at 320x180, 25 fps, keyframes every 2 s; titles on shots 1, 4, 6; a logo on a box over all. */
function makeClip(file: string): void {
  const parts: string[] = [];
  SHOTS.forEach((source, i) => {
    const title = TITLES[i];
    const text = title === undefined ? '' : `,drawtext=text='${title}':fontsize=24:fontcolor=white:box=1:boxcolor=black:boxborderw=10:x=30:y=110`;
    parts.push(`${source}${source.includes('=') ? ':' : '='}size=320x180:rate=25:duration=4,format=yuv420p${text}[s${i}]`);
  });
  parts.push(`${SHOTS.map((_, i) => `[s${i}]`).join('')}concat=n=${SHOTS.length}:v=1:a=0,drawtext=text='NEWS24':fontsize=18:fontcolor=white:box=1:boxcolor=black:boxborderw=12:x=200:y=16,format=yuv420p[v]`);
  execFileSync(ffmpeg!, ['-y', '-loglevel', 'error', '-filter_complex', parts.join(';'), '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', file], { stdio: 'ignore' });
}

before(() => {
  if (skip !== null) return;
  try {
    makeClip(clip);
  } catch {
    skip = 'this ffmpeg cannot draw text (no drawtext filter or no font)';
  }
});
after(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What is compared: every stored field of every scene, and its thumbnail's name and bytes. */
interface SceneView {
  scenes: unknown[];
  thumbnails: Array<[string, string]>;
  degraded: unknown;
}

async function viewOf(library: Library, mediaId: string): Promise<SceneView> {
  const list = await library.videoScenes.list(mediaId, { limit: 1000 });
  const scenes: unknown[] = [];
  const thumbnails: Array<[string, string]> = [];
  for (const s of list.items) {
    const full = await library.videoScenes.get(s.scene_id);
    scenes.push({
      scene_index: s.scene_index, start_time: s.start_time, end_time: s.end_time, description: s.description, tags: s.tags, visible_text: s.visible_text,
      confidence_score: s.confidence_score, embedding_status: s.embedding_status, errors: full.errors, text_lines: s.text_lines, tag_scores: s.tag_scores,
    });
    const bytes = await library.videoScenes.getThumbnail(s.scene_id);
    thumbnails.push([path.basename(decodeURIComponent(s.thumbnail_url ?? '')), bytes.toString('base64')]);
  }
  return { scenes, thumbnails, degraded: list.degraded };
}

type Open = (pipeline: AnalysisPipeline, chunkSeconds: number) => Promise<Library>;

/** One worker, chunking off: the reference. */
async function oneWorker(open: Open, options: DefaultPipelineOptions): Promise<{ view: SceneView; jobId: string }> {
  const pipeline = createDefaultPipeline({ ...options, chunkSeconds: 0 });
  const library = await open(pipeline, 0);
  try {
    const upload = await library.media.upload(clip);
    library.startWorkers({ concurrency: 1 });
    const status = await library.videoAnalysis.waitForCompletion(upload.analysis_job_id!, { timeoutMs: 600_000 });
    assert.equal(status.status, 'completed', JSON.stringify(status));
    return { view: await viewOf(library, upload.media_id), jobId: upload.analysis_job_id! };
  } finally {
    await library.close();
    await pipeline.close?.();
  }
}

/** Two runners sharing the library, chunks of SPAN seconds. */
async function twoWorkers(open: Open, options: DefaultPipelineOptions): Promise<{ view: SceneView; enrichRunners: Set<number>; enrichChunks: number; steps: string[]; jobId: string }> {
  const pipelines = [createDefaultPipeline({ ...options, chunkSeconds: SPAN }), createDefaultPipeline({ ...options, chunkSeconds: SPAN })];
  const a = await open(pipelines[0]!, SPAN);
  const b = await open(pipelines[1]!, SPAN);
  try {
    const enrichRunners = new Set<number>();
    let enrichChunks = 0;
    const steps: string[] = [];
    [a, b].forEach((library) => library.on('progress', (s) => steps.push(s.current_step)));
    [a, b].forEach((library, i) =>
      library.on('chunk', (e) => {
        if (e.outcome === 'done' && e.kind === 'enrich') {
          enrichRunners.add(i);
          enrichChunks++;
        }
      }),
    );
    const upload = await a.media.upload(clip);
    a.startWorkers({ concurrency: 1 });
    b.startWorkers({ concurrency: 1 });
    const status = await a.videoAnalysis.waitForCompletion(upload.analysis_job_id!, { timeoutMs: 600_000 });
    assert.equal(status.status, 'completed', JSON.stringify(status));
    return { view: await viewOf(a, upload.media_id), enrichRunners, enrichChunks, steps, jobId: upload.analysis_job_id! };
  } finally {
    await a.close();
    await b.close();
    await Promise.all(pipelines.map((p) => p.close?.()));
  }
}

function sqliteOpen(name: string): Open {
  const file = path.join(dir, `${name}.db`);
  return (pipeline) => openLibrary({ path: file, workers: 0, pipeline, pollMs: 50 });
}

const pgUrls = new Map<string, string>();
function pgOpen(name: string): Open {
  return async (pipeline) => {
    server ??= await startPgServer();
    let url = pgUrls.get(name);
    if (url === undefined) pgUrls.set(name, (url = server.database(name)));
    return openLibrary({ database: url, workers: 0, pipeline, pollMs: 50, assetsDir: path.join(dir, `${name}-assets`) });
  };
}

/** The embeddings of a SQLite library's scenes of a job, by scene_index. */
function embeddingsOf(file: string, jobId: string): Array<[number, string, number, string]> {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT s.scene_index, e.model_id, e.dimension, e.vector FROM embeddings e JOIN scenes s ON s.id = e.scene_rowid WHERE s.job_id = ? ORDER BY s.scene_index').all(jobId) as Array<{ scene_index: number; model_id: string; dimension: number; vector: Buffer }>).map((r) => [r.scene_index, r.model_id, r.dimension, r.vector.toString('base64')]);
  } finally {
    db.close();
  }
}

const THUMBNAILS: DefaultPipelineOptions = { enrichment: 'thumbnails' };

suite('enrichment of long videos in chunks', () => {
  test('SQLite, thumbnails: two runners take enrich chunks; scenes and thumbnail bytes equal one worker without chunks', { skip: skip ?? false }, async () => {
    const reference = await oneWorker(sqliteOpen('thumbs-one'), THUMBNAILS);
    assert.equal(reference.view.scenes.length, SHOTS.length, JSON.stringify(reference.view.scenes));
    const chunked = await twoWorkers(sqliteOpen('thumbs-two'), THUMBNAILS);
    assert.deepEqual(chunked.view, reference.view);
    assert.equal(chunked.enrichChunks, 3, 'scenes starting in 0-10 s, 10-20 s, 20-32 s');
    assert.equal(chunked.enrichRunners.size, 2, 'both runners enriched chunks');
    assert.ok(chunked.steps.some((s) => /^Making scene thumbnails \(\d\/3 chunks done\)$/.test(s)), `current_step follows the chunks: ${[...new Set(chunked.steps)].join(' | ')}`);
  });

  test('PostgreSQL, thumbnails: two runners take enrich chunks; scenes and thumbnail bytes equal one worker without chunks', { skip: skip ?? pgUnavailable() ?? false }, async () => {
    const reference = await oneWorker(pgOpen('thumbs_one'), THUMBNAILS);
    const chunked = await twoWorkers(pgOpen('thumbs_two'), THUMBNAILS);
    assert.equal(reference.view.scenes.length, SHOTS.length);
    assert.deepEqual(chunked.view, reference.view);
    assert.equal(chunked.enrichChunks, 3);
    assert.equal(chunked.enrichRunners.size, 2, 'both runners enriched chunks');
  });

  test('SQLite, full enricher with the models: text, persistent logo, tags, embeddings and thumbnails equal one worker without chunks', { skip: skip ?? modelsSkipReason() ?? false }, async () => {
    const options: DefaultPipelineOptions = { enricher: { modelsDir: SHARED_MODELS, caption: false } };
    const reference = await oneWorker(sqliteOpen('full-one'), options);
    const chunked = await twoWorkers(sqliteOpen('full-two'), options);
    const scenes = reference.view.scenes as Array<{ visible_text: string | null; text_lines: Array<{ text: string; persistent: boolean }> | null; embedding_status: string }>;
    // The clip's text was read, and the logo over every scene is marked persistent in all of them.
    assert.match(scenes.map((s) => s.visible_text ?? '').join('\n'), /HARBOUR/);
    assert.ok(scenes.every((s) => s.text_lines?.some((l) => /NEWS/.test(l.text) && l.persistent)), JSON.stringify(scenes.map((s) => s.text_lines)));
    assert.ok(scenes.every((s) => s.embedding_status === 'completed'));
    assert.deepEqual(chunked.view, reference.view);
    assert.equal(chunked.enrichRunners.size, 2, 'both runners enriched chunks');
    assert.ok(chunked.steps.some((s) => /^Describing scenes \(\d\/3 chunks done\)$/.test(s)), [...new Set(chunked.steps)].join(' | '));
    const embeddings = embeddingsOf(path.join(dir, 'full-one.db'), reference.jobId);
    assert.equal(embeddings.length, SHOTS.length);
    assert.deepEqual(embeddingsOf(path.join(dir, 'full-two.db'), chunked.jobId), embeddings);
  });

  test('an enrich chunk whose worker died is redone when its lease expires; the result is unchanged', { skip: skip ?? false }, async () => {
    const reference = await oneWorker(sqliteOpen('ghost-ref'), THUMBNAILS);
    const pipeline = createDefaultPipeline({ ...THUMBNAILS, chunkSeconds: SPAN });
    const library = await openLibrary({ path: path.join(dir, 'ghost.db'), workers: 0, pipeline, pollMs: 50 });
    try {
      const upload = await library.media.upload(clip);
      library.startWorkers({ concurrency: 1 });
      // A worker that claims an enrich chunk and dies at once (never beats, never completes): detect chunks it
      // takes are given back.
      let ghost: { index: number; token: string } | null = null;
      await until(async () => {
        const chunk = await library.store.claimChunk({ workerId: 'wrk_ghost', leaseMs: 400 });
        if (chunk === null) return false;
        if ((chunk.spec as { kind?: string }).kind !== 'enrich') {
          await library.store.releaseChunk(chunk.job_id, chunk.chunk_index, chunk.token);
          return false;
        }
        assert.ok(chunk.input === null, 'thumbnails need no frame measures');
        ghost = { index: chunk.chunk_index, token: chunk.token };
        return true;
      }, 120_000, 'an enrich chunk to claim');
      const status = await library.videoAnalysis.waitForCompletion(upload.analysis_job_id!, { timeoutMs: 300_000 });
      assert.equal(status.status, 'completed');
      const taken = ghost as { index: number; token: string } | null;
      assert.ok(taken !== null);
      assert.equal(await library.store.completeChunk(upload.analysis_job_id!, taken.index, taken.token, Buffer.from('late'), 1), false, 'the dead worker\'s late result is refused');
      assert.deepEqual(await viewOf(library, upload.media_id), reference.view);
      assert.deepEqual(await library.store.listChunks(upload.analysis_job_id!), [], 'the merged chunks are gone');
    } finally {
      await library.close();
      await pipeline.close?.();
    }
  });

  test('cancel during the enrich chunks: the job is cancelled and a worker running a chunk is told to stop', { skip: skip ?? false }, async () => {
    const pipeline = createDefaultPipeline({ enricher: { modelsDir: path.join(dir, 'no-models'), ocr: false, caption: false }, chunkSeconds: SPAN });
    const library = await openLibrary({ path: path.join(dir, 'cancel.db'), workers: 0, pipeline, pollMs: 50 });
    try {
      const upload = await library.media.upload(clip);
      library.startWorkers({ concurrency: 1 });
      let held: { index: number; token: string; input: Buffer | null } | null = null;
      await until(async () => {
        const chunk = await library.store.claimChunk({ workerId: 'wrk_other', leaseMs: 60_000 });
        if (chunk === null) return false;
        if ((chunk.spec as { kind?: string }).kind !== 'enrich') {
          await library.store.releaseChunk(chunk.job_id, chunk.chunk_index, chunk.token);
          return false;
        }
        held = { index: chunk.chunk_index, token: chunk.token, input: chunk.input };
        return true;
      }, 120_000, 'an enrich chunk to claim');
      const h = held as { index: number; token: string; input: Buffer | null } | null;
      assert.ok(h !== null);
      assert.ok(h.input !== null && h.input.byteLength > 12, 'the chunk carries its scenes\' frame measures');
      assert.equal(await library.store.heartbeatChunk(upload.analysis_job_id!, h.index, h.token, 60_000, 0.5), 'ok');
      const job = await library.videoAnalysis.getStatus(upload.analysis_job_id!);
      assert.equal(job.status, 'uploading_to_vlm');
      await library.videoAnalysis.cancel(upload.analysis_job_id!);
      assert.equal(await library.store.heartbeatChunk(upload.analysis_job_id!, h.index, h.token, 60_000, 0.6), 'cancelled');
      await until(() => library.runningJobIds.length === 0, 10_000, 'the holder to stop');
      assert.equal((await library.videoAnalysis.getStatus(upload.analysis_job_id!)).status, 'cancelled');
    } finally {
      await library.close();
      await pipeline.close?.();
    }
  });
});
