/**
 * A library on PostgreSQL end to end, with the real engine: `scenescope add --library postgres://... a.mp4
 * b.mp4`, then `scenescope worker --library postgres://... --exit-when-idle` in another process with its own
 * data folder (another "host" as far as files go). The scenes equal detectScenes' and the thumbnails are
 * read back from the database by a library that never saw the worker's folder. Skipped with the reason when
 * PostgreSQL or ffmpeg is not installed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { detectScenes } from '../src/api/detect.js';
import { openLibrary } from '../src/library/library.js';
import type { VideoAnalysisJobStatus } from '../src/types.js';
import { exited, ffmpegOrNull, makeClip, spawnWorker, runLibraryCli } from './library-helpers.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const skip = pgUnavailable() ?? (ffmpegOrNull() === null ? 'ffmpeg is not available' : null);
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-pglib-'));
let server: PgServer | null = null;
const clips = [path.join(dir, 'a.mp4'), path.join(dir, 'b.mp4')];

before(async () => {
  if (skip !== null) return;
  makeClip(clips[0]!, ['testsrc2', 'smptebars'], 2);
  makeClip(clips[1]!, ['rgbtestsrc', 'testsrc', 'smptehdbars'], 1.5);
  server = await startPgServer();
});
after(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runLibraryCli> => runLibraryCli(command, args, { ...env, XDG_DATA_HOME: path.join(dir, 'cli-home') });

suite('library on PostgreSQL (CLI, worker process, real engine)', { skip: skip ?? false }, () => {
  test('add, then a worker process with --exit-when-idle: scenes equal detect, thumbnails come from the database', async () => {
    const url = server!.database();
    const added = await run('add', ['--library', url, ...clips, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const items = (JSON.parse(added.stdout) as { items: Array<{ media_id: string; analysis_job_id: string }> }).items;
    assert.equal(items.length, 2);

    const workerHome = path.join(dir, 'worker-home');
    mkdirSync(workerHome, { recursive: true });
    const worker = spawnWorker(url, ['--exit-when-idle', '--json', '--concurrency', '2'], { XDG_DATA_HOME: workerHome, SCENESCOPE_LIBRARY: '' });
    assert.equal(await exited(worker), 0, worker.output());
    assert.match(worker.output(), /"event":"started".*"library":"postgres:\/\/postgres@127\.0\.0\.1:\d+\//);

    // Another process with another data folder: everything it reads comes from the database.
    const library = await openLibrary({ database: url, workers: 0, assetsDir: path.join(dir, 'reader-assets'), create: false });
    try {
      for (const [i, item] of items.entries()) {
        const status = await library.videoAnalysis.getStatus(item.analysis_job_id);
        assert.equal(status.status, 'completed', JSON.stringify(status));
        const scenes = (await library.videoScenes.list(item.media_id, { limit: 100 })).items;
        const expected = await detectScenes(clips[i]!);
        assert.deepEqual(
          scenes.map((s) => [s.start_time, s.end_time]),
          expected.scenes.map((s) => [s.start_time, s.end_time]),
        );
        for (const scene of scenes) {
          assert.match(scene.thumbnail_url ?? '', /^sha256:[0-9a-f]{64}$/);
          const jpeg = await library.videoScenes.getThumbnail(scene.scene_id);
          assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
        }
      }
      assert.deepEqual(await library.integrityCheck(), ['ok']);
    } finally {
      await library.close();
    }

    const followed = await run('status', [items[0]!.analysis_job_id, '--follow', '--json'], { SCENESCOPE_LIBRARY: url });
    assert.equal(followed.code, 0, followed.stderr);
    const last = JSON.parse(followed.stdout.trim().split('\n').pop()!) as VideoAnalysisJobStatus;
    assert.equal(last.status, 'completed');
    const listed = await run('status', ['--json'], { SCENESCOPE_LIBRARY: url });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as { items: unknown[] }).items.length, 2);
  });

  test('status on a database without a library is LIBRARY_NOT_FOUND, and creates no tables', async () => {
    const url = server!.database();
    const first = await run('status', ['--library', url]);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /\[LIBRARY_NOT_FOUND\]: No scenescope library in the database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+/);
    const again = await run('scenes', ['med_x', '--library', url]);
    assert.match(again.stderr, /LIBRARY_NOT_FOUND/, 'the first command did not create it');
  });

  test('a wait on one host hears of a change made on another at once (LISTEN/NOTIFY), not at its next poll', async () => {
    const url = server!.database();
    const queuer = await openLibrary({ database: url, workers: 0 });
    const waiter = await openLibrary({ database: url, workers: 0 });
    try {
      const upload = await queuer.media.upload(clips[0]!, { autoAnalyze: true });
      const jobId = upload.analysis_job_id!;
      // A long poll interval: only a notification can end the wait quickly.
      const waiting = waiter.videoAnalysis.waitForCompletion(jobId, { pollIntervalMs: 30_000, maxPollIntervalMs: 30_000, timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 500));
      const started = Date.now();
      await queuer.videoAnalysis.cancel(jobId);
      const status = await waiting;
      assert.equal(status.status, 'cancelled');
      assert.ok(Date.now() - started < 2000, `the wait ended ${Date.now() - started} ms after the cancel`);
    } finally {
      await waiter.close();
      await queuer.close();
    }
  });
});
