/**
 * Full disks: a worker backs off instead of spinning, records DISK_FULL on the job and goes idle; writes that
 * run out of space say DISK_FULL and leave no temporary file. The real full disk is a 2 MiB tmpfs, mounted
 * only when the tests run as root (skipped with the reason otherwise) and always unmounted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { writeStatsWindowed } from '../src/api/stats.js';
import { memorySource } from '../src/detect/windowed.js';
import type { FeatureSeries } from '../src/detect/series.js';
import { writeThumbnail } from '../src/enrich/thumbnail.js';
import { StoreError } from '../src/errors.js';
import { GRID_SIZE, HIST_BINS, SCALAR_COUNT } from '../src/features/types.js';
import { packFramesFile, unpackFramesFile, writeFramesFile } from '../src/jobs/frames-file.js';
import { writeThumbnailFile } from '../src/jobs/thumbnails.js';
import type { AnalysisPipeline } from '../src/jobs/pipeline.js';
import { describeError, isDiskFull, JobRunner, type RunnerEvent } from '../src/jobs/runner.js';
import { openLibrary } from '../src/library/library.js';
import type { JobStore } from '../src/store/types.js';
import { tempDir } from './helpers/clips.js';
import { addFakeMedia, loadFakePipeline, until, writeFakePipeline } from './library-helpers.js';

const sqliteFull = (): StoreError => new StoreError('STORE_FAILED', 'Library database error: database or disk is full', { details: { sqlite_code: 'SQLITE_FULL' } });

suite('disk-full errors are recognised and the runner backs off', () => {
  test('ENOSPC, EDQUOT, SQLITE_FULL and DISK_FULL are disk-full; other errors are not', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.ok(isDiskFull(enospc));
    assert.ok(isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' })));
    assert.ok(isDiskFull(sqliteFull()));
    assert.ok(isDiskFull(new Error('step failed', { cause: enospc })), 'through a cause');
    assert.deepEqual(describeError(enospc).code, 'DISK_FULL');
    assert.deepEqual(describeError(sqliteFull()).code, 'DISK_FULL');
    assert.equal(isDiskFull(new Error('EACCES')), false);
    assert.equal(describeError(new Error('boom')).code, 'INTERNAL');
  });

  test('a store that fails every call is polled less and less often (exponential, capped), not twice a second', async () => {
    let calls = 0;
    const store = {
      workerHeartbeat: async () => {
        calls++;
        throw sqliteFull();
      },
      claim: async () => {
        calls++;
        throw sqliteFull();
      },
    } as unknown as JobStore;
    const errors: RunnerEvent[] = [];
    const runner = new JobRunner({ store, pipeline: { steps: [], run: async () => null }, assetsRoot: tempDir(), pollMs: 20, onEvent: (e) => e.type === 'error' && errors.push(e) });
    runner.start();
    await new Promise((r) => setTimeout(r, 1500));
    const reported = errors.length;
    const polled = calls;
    await runner.stop();
    // Without backoff: 1500 / 20 = 75 polls. With it: 20, 40, 80, ... 640 ms apart: 6 or 7.
    assert.ok(polled >= 3 && polled <= 10, `${polled} store calls in 1.5 s`);
    assert.equal(reported, polled, 'each failed poll is reported once');
  });
});

const root = process.getuid?.() === 0;
const reason = root ? false : 'mounting a small tmpfs needs root (run the tests as root to hold the full-disk behaviour)';

suite('on a real full disk (2 MiB tmpfs)', { skip: reason }, () => {
  const dir = tempDir();
  const disk = path.join(dir, 'disk');
  let mounted = false;
  before(() => {
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    mounted = true;
  });
  after(() => {
    if (mounted) execFileSync('umount', ['-l', disk]);
  });

  /** Fill the disk up to the last byte; returns the filler's path (delete it to free the space). */
  function fill(name: string): string {
    const file = path.join(disk, name);
    try {
      writeFileSync(file, Buffer.alloc(4 << 20));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
    return file;
  }

  function series(n: number): FeatureSeries {
    return { count: n, times: new Float64Array(n), frameRate: 25, scalars: new Float64Array(n * SCALAR_COUNT), hist: new Uint32Array(n * HIST_BINS), hash: new Uint32Array(n * 2), grid: new Uint8Array(n * GRID_SIZE) };
  }

  test('thumbnail, frames file and stats writes fail with DISK_FULL and leave no temporary file', async () => {
    const out = path.join(disk, 'out');
    mkdirSync(out);
    const filler = fill('filler');
    try {
      const image = { data: new Uint8Array(64 * 36 * 3).map((_, i) => (i * 7) % 256), width: 64, height: 36, channels: 3 as const };
      await assert.rejects(writeThumbnail(image, 0, { dir: out, format: 'jpeg', width: 64, quality: 82 }), { code: 'DISK_FULL' });
      const s = series(20_000);
      await assert.rejects(writeFramesFile(path.join(out, 'frames.f32'), s), { code: 'DISK_FULL' });
      const identity = { format: 'scenescope-stats' as const, version: 1 as const, file_size: 1, mtime_ms: 1, analysis: '192x108', frame_rate: 25 };
      await assert.rejects(writeStatsWindowed(path.join(out, 'stats.csv'), { count: s.count, read: memorySource(s).read, trackNames: [], readTracks: () => new Float64Array(0) }, identity), { code: 'DISK_FULL' });
      // A chunk's thumbnail made on another worker, and frame measures restored from the detect step's output.
      await assert.rejects(writeThumbnailFile(out, 'scene-00000.jpg', Buffer.alloc(3 << 20, 7)), { code: 'DISK_FULL' });
      const packed = path.join(tmpdir(), `scenescope-packed-${process.pid}.f32`);
      try {
        await writeFramesFile(packed, s);
        await assert.rejects(unpackFramesFile(path.join(out, 'frames.f32'), (await packFramesFile(packed))!), { code: 'DISK_FULL' });
      } finally {
        rmSync(packed, { force: true });
      }
      assert.deepEqual(readdirSync(out), [], 'no temporary file is left behind');
    } finally {
      rmSync(filler, { force: true });
    }
  });

  test('a job whose step runs out of space ends failed with DISK_FULL, and the runner goes idle', async () => {
    const fake = await loadFakePipeline(writeFakePipeline(dir));
    // A step that writes more than the disk holds, as frames.f32 or thumbnails do on a nearly full disk.
    const pipeline: AnalysisPipeline = {
      steps: fake.steps,
      async run(step, ctx) {
        if (step.name === 'detect') {
          await mkdir(ctx.assetsDir, { recursive: true });
          await writeFile(path.join(ctx.assetsDir, 'big.bin'), Buffer.alloc(3 << 20));
        }
        return fake.run(step, ctx);
      },
    };
    const library = await openLibrary({ path: path.join(disk, 'lib.db'), pipeline, workers: 0 });
    try {
      const media = await addFakeMedia(library, dir, 'full', { duration: 2, scenes: 1 });
      const { analysis_job_id } = await library.videoAnalysis.queue(media);
      const events: RunnerEvent[] = [];
      let idle = 0;
      const runner = new JobRunner({ store: library.store, pipeline, assetsRoot: disk, pollMs: 20, onEvent: (e) => (e.type === 'idle' ? idle++ : events.push(e)) });
      runner.start();
      try {
        // The failed write left the disk full, so recording the failure may itself fail: free the space after a
        // while, as an operator would, and the failure is recorded.
        await new Promise((r) => setTimeout(r, 1200));
        const errorsWhileFull = events.filter((e) => e.type === 'error').length;
        for (const f of readdirSync(path.join(disk, 'scenes', media), { recursive: true }) as string[]) if (f.endsWith('big.bin')) rmSync(path.join(disk, 'scenes', media, f), { force: true });
        const status = await until(async () => {
          const s = await library.videoAnalysis.getStatus(analysis_job_id);
          return s.status === 'failed' ? s : null;
        }, 40_000, 'the job to be failed');
        assert.equal(status.error_code, 'DISK_FULL');
        await until(() => idle > 0, 40_000, 'the runner to go idle (so --exit-when-idle exits)');
        assert.ok(errorsWhileFull <= 12, `${errorsWhileFull} errors reported in 1.2 s on a full disk (no spinning)`);
      } finally {
        await runner.stop();
      }
    } finally {
      await library.close();
    }
  });
});
