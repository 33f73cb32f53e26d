/**
 * Long videos in chunks: a generated 90 s clip with keyframes every 2 s and transitions placed at and around
 * the seams of 20 s chunks (a cut on the seam's keyframe, a cut one frame before a seam, a fade through black
 * across a seam, a dissolve across a seam) is analysed by a library whose videos longer than 20 s are split.
 * Two runners share the SQLite file (and, with PostgreSQL installed, a server database), so chunks are
 * decoded by both; the boundaries must equal a single detectScenes pass exactly, and the merged features
 * must be bit-identical to a whole decode. Skipped with the reason when ffmpeg (or PostgreSQL) is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { detectScenes, resolveDetectOptions } from '../src/api/detect.js';
import { acquireFeaturePool } from '../src/features/pool-registry.js';
import { computeChunk, mergeChunks, planChunks } from '../src/jobs/chunks.js';
import { createDefaultPipeline } from '../src/jobs/default-pipeline.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { probe } from '../src/media/probe.js';
import { ffmpegOrNull } from './library-helpers.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const ffmpeg = ffmpegOrNull();
const skip = ffmpeg === null ? 'ffmpeg is not available' : null;
const pgSkip = skip ?? pgUnavailable();
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-chunks-'));
const clip = path.join(dir, 'long.mp4');
const SPAN = 20;
let server: PgServer | null = null;

/**
 * 90 s at 25 fps, a keyframe every 2 s (so the 20 s seams fall on keyframes):
 * - 0 s testsrc2, cut at 20.00 s (the first frame of chunk 1) to smptebars,
 * - cut at 39.96 s (the last frame of chunk 1 is the first of the new shot) to rgbtestsrc,
 * - fade to black 58.54-60.04 s and up from black 60.04-61.54 s (across the seam at 60 s) into smptehdbars,
 * - dissolve 79-81 s (across the seam at 80 s) into testsrc.
 */
function makeSeamClip(file: string): void {
  const src = (name: string, seconds: number): string => `${name}=size=160x120:rate=25:duration=${seconds}`;
  const graph = [
    `${src('testsrc2', 20)}[a]`,
    `${src('smptebars', 19.96)}[b]`,
    `${src('rgbtestsrc', 20.04)},fade=t=out:st=18.54:d=1.5[c]`,
    `${src('smptehdbars', 30)},fade=t=in:st=0:d=1.5,format=yuv420p[d]`,
    `${src('testsrc', 11)},format=yuva420p,fade=t=in:st=0:d=2:alpha=1,setpts=PTS+19/TB[e]`,
    `[d][e]overlay=eof_action=pass,format=yuv420p[de]`,
    `[a][b][c][de]concat=n=4:v=1:a=0,format=yuv420p[v]`,
  ].join(';');
  execFileSync(ffmpeg!, ['-y', '-loglevel', 'error', '-filter_complex', graph, '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-bf', '2', '-pix_fmt', 'yuv420p', file]);
}

before(() => {
  if (skip === null) makeSeamClip(clip);
});
after(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Run the clip's analysis on two runners sharing one library; returns the scenes and which runners did chunks. */
async function analyseWithTwoRunners(open: () => Promise<Library>): Promise<{ scenes: Array<[number, number]>; chunkRunners: Set<number>; chunks: number }> {
  const a = await open();
  const b = await open();
  try {
    const chunkRunners = new Set<number>();
    let chunks = 0;
    [a, b].forEach((library, i) =>
      library.on('chunk', (e) => {
        if (e.outcome === 'done') {
          chunkRunners.add(i);
          chunks++;
        }
      }),
    );
    const upload = await a.media.upload(clip, { analysisType: 'scenes' });
    a.startWorkers({ concurrency: 1 });
    b.startWorkers({ concurrency: 1 });
    const status = await a.videoAnalysis.waitForCompletion(upload.analysis_job_id!, { timeoutMs: 300_000 });
    assert.equal(status.status, 'completed', JSON.stringify(status));
    const list = await a.videoScenes.list(upload.media_id, { limit: 1000 });
    return { scenes: list.items.map((s) => [s.start_time, s.end_time]), chunkRunners, chunks };
  } finally {
    await a.close();
    await b.close();
  }
}

suite('long videos in chunks', { skip: skip ?? false }, () => {
  test('chunks start at the keyframes at or before each 20 s seam and overlap by one frame', async () => {
    const probed = await probe(clip);
    const plan = await planChunks(probed, SPAN);
    assert.ok(plan !== null);
    assert.deepEqual(plan.map((c) => c.start_seconds), [0, 20, 40, 60, 80]);
    // Chunk k ends on the first frame of chunk k+1: one frame decoded twice.
    for (let k = 0; k + 1 < plan.length; k++) assert.equal(plan[k]!.end_pts, plan[k + 1]!.start_pts);
    assert.equal(plan[0]!.start_pts, null);
    assert.equal(plan[plan.length - 1]!.end_pts, null);
    assert.equal(await planChunks(probed, 100), null, 'a video shorter than the span is one pass');
  });

  test('merged chunk features are bit-identical to a whole decode, frame times included', async () => {
    const probed = await probe(clip);
    const plan = (await planChunks(probed, SPAN))!;
    const options = resolveDetectOptions({});
    const lease = acquireFeaturePool({ threads: options.workerThreads, backend: options.backend });
    try {
      const stored: Buffer[] = [];
      for (const spec of plan) {
        stored.push(await computeChunk(probed, spec, lease.pool, { analysisArea: options.analysisArea, decoderThreads: 0, skipLoopFilter: options.skipLoopFilter, batchFrames: options.batchFrames, workerThreads: options.workerThreads }));
      }
      const merged = await mergeChunks(probed, stored.length, async (i) => stored[i]!);
      const whole = await detectScenes(clip);
      try {
        assert.equal(merged.count, whole.frame_count);
        assert.equal(merged.count, 2250);
        const a = merged.read(0, merged.count);
        const b = whole.readFeatures(0, whole.frame_count);
        assert.deepEqual(Buffer.from(a.times.buffer, a.times.byteOffset, a.times.byteLength), Buffer.from(b.times.buffer, b.times.byteOffset, b.times.byteLength));
        for (const key of ['scalars', 'hist', 'hash', 'grid'] as const) {
          const x = a[key];
          const y = b[key];
          assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${key} differ`);
        }
      } finally {
        merged.close();
        whole.release();
      }
    } finally {
      lease.release();
    }
  });

  test('a chunk that does not join the one before it is refused (DECODE_FAILED), not merged', async () => {
    const probed = await probe(clip);
    const plan = (await planChunks(probed, SPAN))!;
    const options = resolveDetectOptions({});
    const lease = acquireFeaturePool({ threads: 1, backend: options.backend });
    try {
      const feature = { analysisArea: options.analysisArea, decoderThreads: 0, skipLoopFilter: true, batchFrames: 64, workerThreads: 1 };
      // Chunk 2 decoded from one keyframe (50 frames) too late: its first frame is not chunk 1's last.
      const late = { ...plan[2]!, start_pts: plan[2]!.start_pts! + 50 * 512, seek_seconds: plan[2]!.seek_seconds + 2 };
      const parts = [await computeChunk(probed, plan[0]!, lease.pool, feature), await computeChunk(probed, plan[1]!, lease.pool, feature), await computeChunk(probed, late, lease.pool, feature)];
      await assert.rejects(mergeChunks(probed, 3, async (i) => parts[i]!), (e: unknown) => (e as { code?: string }).code === 'DECODE_FAILED' && /Chunk 2 .* does not join/.test((e as Error).message));
    } finally {
      lease.release();
    }
  });

  test('a decode budget (openLibrary maxFrames) holds for chunked and one-pass videos alike: BUDGET_EXCEEDED', async () => {
    // 2250 frames: 1000 is more than any 20 s chunk (~500) but less than the merged video; 400 is less than a chunk.
    for (const [name, chunkSeconds, maxFrames] of [['merged', SPAN, 1000], ['chunk', SPAN, 400], ['one-pass', 0, 1000]] as const) {
      const library = await openLibrary({ path: path.join(dir, `budget-${name}.db`), workers: 1, chunkSeconds, maxFrames, pollMs: 50 });
      try {
        const upload = await library.media.upload(clip, { analysisType: 'scenes' });
        await assert.rejects(library.videoAnalysis.waitForCompletion(upload.analysis_job_id!, { timeoutMs: 120_000 }), (e: unknown) => (e as { code?: string }).code === 'JOB_FAILED');
        const status = await library.videoAnalysis.getStatus(upload.analysis_job_id!);
        assert.equal(status.error_code, 'BUDGET_EXCEEDED', `${name}: ${status.error_message ?? ''}`);
        assert.match(status.error_message ?? '', /maxFrames/);
      } finally {
        await library.close();
      }
    }
    await assert.rejects(openLibrary({ path: path.join(dir, 'budget-bad.db'), workers: 0, maxFrames: 0 }), /maxFrames/);
    await assert.rejects(openLibrary({ path: path.join(dir, 'budget-bad.db'), workers: 0, timeLimitMs: -5 }), /timeLimitMs/);
  });

  test('chunkSeconds is validated at the boundary', async () => {
    assert.throws(() => createDefaultPipeline({ chunkSeconds: -1 }), /chunkSeconds/);
    await assert.rejects(openLibrary({ path: path.join(dir, 'bad.db'), workers: 0, chunkSeconds: 'ten' as unknown as number }), /Expected .* for chunkSeconds/);
  });

  test('SQLite: two runners decode the chunks; the scenes are exactly those of one pass', async () => {
    const file = path.join(dir, 'chunks.db');
    const { scenes, chunkRunners, chunks } = await analyseWithTwoRunners(() => openLibrary({ path: file, workers: 0, chunkSeconds: SPAN, pollMs: 50 }));
    const whole = await detectScenes(clip);
    whole.release();
    assert.ok(whole.scenes.length >= 5, `the clip has its transitions (${whole.scenes.length} scenes)`);
    assert.deepEqual(scenes, whole.scenes.map((s) => [s.start_time, s.end_time]));
    assert.equal(chunks, 5);
    assert.equal(chunkRunners.size, 2, 'both runners decoded chunks');
  });

  test('PostgreSQL: two runners decode the chunks; the scenes are exactly those of one pass', { skip: pgSkip ?? false }, async () => {
    server ??= await startPgServer();
    const url = server.database();
    const { scenes, chunkRunners, chunks } = await analyseWithTwoRunners(() => openLibrary({ database: url, workers: 0, chunkSeconds: SPAN, pollMs: 50, assetsDir: path.join(dir, 'pg-assets') }));
    const whole = await detectScenes(clip);
    whole.release();
    assert.deepEqual(scenes, whole.scenes.map((s) => [s.start_time, s.end_time]));
    assert.equal(chunks, 5);
    assert.equal(chunkRunners.size, 2, 'both runners decoded chunks');
  });
});
