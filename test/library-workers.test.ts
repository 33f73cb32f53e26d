/**
 * Separate worker processes sharing one library file (fake pipeline, real SQLite, real child processes):
 * exactly-once claims, takeover after SIGKILL, cross-process cancel, graceful SIGTERM, clean exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, suite, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openLibrary, type Library } from '../src/library/library.js';
import { addFakeMedia, DIST, exited, spawnWorker, until, writeFakePipeline } from './library-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-workers-'));
const pipelineModule = writeFakePipeline(dir);
const children: Array<ReturnType<typeof spawnWorker>> = [];
const libraries: Library[] = [];
let n = 0;

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(libraries.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function library(): Promise<{ library: Library; file: string; log: string }> {
  const file = path.join(dir, `lib-${++n}.db`);
  const lib = await openLibrary({ path: file, workers: 0 });
  libraries.push(lib);
  return { library: lib, file, log: path.join(dir, `runs-${n}.log`) };
}

function worker(file: string, log: string, args: string[] = []): ReturnType<typeof spawnWorker> {
  const child = spawnWorker(file, ['--pipeline', pipelineModule, '--poll-ms', '50', '--json', ...args], { FAKE_PIPELINE_LOG: log });
  children.push(child);
  return child;
}

function lines(log: string): string[][] {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' '));
  } catch {
    return [];
  }
}

suite('library worker processes', () => {
  test('two workers and twenty queued jobs: every job is done exactly once', async () => {
    const { library: lib, file, log } = await library();
    const jobs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const media = await addFakeMedia(lib, dir, `twenty-${i}`, { scenes: 2, stepMs: { probe: 10, detect: 120, enrich: 30 } });
      jobs.push((await lib.videoAnalysis.queue(media)).analysis_job_id);
    }
    const a = worker(file, log, ['--exit-when-idle']);
    const b = worker(file, log, ['--exit-when-idle']);
    assert.deepEqual(await Promise.all([exited(a), exited(b)]), [0, 0]);
    for (const job of jobs) assert.equal((await lib.videoAnalysis.getStatus(job)).status, 'completed', job);
    const runs = lines(log);
    for (const job of jobs) {
      for (const step of ['probe', 'detect', 'enrich']) {
        assert.equal(runs.filter(([j, s, phase]) => j === job && s === step && phase === 'start').length, 1, `${job} ${step} ran once`);
      }
    }
    const pids = new Set(runs.map((r) => r[3]));
    assert.equal(pids.size, 2, 'both workers took jobs');
    assert.equal((await lib.store.stats()).scenes, 40);
    assert.deepEqual(await lib.integrityCheck(), ['ok']);
  });

  test('a worker killed with SIGKILL mid-job: another worker resumes it, same scenes, database intact', async () => {
    const { library: lib, file, log } = await library();
    const spec = { scenes: 5, duration: 12, stepMs: { detect: 400, enrich: 4000 } };
    const victim = await addFakeMedia(lib, dir, 'victim', spec);
    const { analysis_job_id } = await lib.videoAnalysis.queue(victim);
    const first = worker(file, log, ['--lease-ms', '1000']);
    await until(async () => (await lib.videoAnalysis.getStatus(analysis_job_id)).status === 'uploading_to_vlm', 10_000, 'the enrich step');
    const before = await lib.videoAnalysis.getStatus(analysis_job_id);
    first.kill('SIGKILL');
    assert.equal(await exited(first), 'SIGKILL');
    const second = worker(file, log, ['--lease-ms', '1000', '--exit-when-idle']);
    const done = await lib.videoAnalysis.waitForCompletion(analysis_job_id, { timeoutMs: 20_000, pollIntervalMs: 50 });
    assert.equal(done.status, 'completed');
    assert.ok(done.progress_percent >= before.progress_percent);
    assert.equal(await exited(second), 0);
    const runs = lines(log).filter(([j]) => j === analysis_job_id);
    assert.equal(runs.filter(([, s, p]) => s === 'detect' && p === 'start').length, 1, 'detect was not repeated');
    assert.equal(runs.filter(([, s, p]) => s === 'enrich' && p === 'start').length, 2, 'enrich ran again in the second worker');
    assert.equal(new Set(runs.map((r) => r[3])).size, 2);

    // The same video analysed without interruption gives the same scene list.
    const control = await addFakeMedia(lib, dir, 'control', spec);
    const controlJob = await lib.videoAnalysis.queue(control);
    const third = worker(file, log, ['--exit-when-idle']);
    await lib.videoAnalysis.waitForCompletion(controlJob.analysis_job_id, { timeoutMs: 20_000, pollIntervalMs: 50 });
    await exited(third);
    const shape = async (media: string): Promise<unknown> => (await lib.videoScenes.list(media)).items.map((s) => [s.scene_index, s.start_time, s.end_time, s.description, s.confidence_score]);
    assert.deepEqual(await shape(victim), await shape(control));
    assert.equal((await lib.videoScenes.list(victim)).total_count, 5);
    assert.deepEqual(await lib.integrityCheck(), ['ok']);
  });

  test('cancel from another process: the worker sees it on its heartbeat and aborts within a second', async () => {
    const { library: lib, file, log } = await library();
    const media = await addFakeMedia(lib, dir, 'remote-cancel', { stepMs: { detect: 30_000 } });
    const { analysis_job_id } = await lib.videoAnalysis.queue(media);
    const child = worker(file, log);
    await until(async () => (await lib.videoAnalysis.getStatus(analysis_job_id)).current_step?.startsWith('Detecting scenes ('), 10_000, 'detect');
    const t0 = Date.now();
    const status = await lib.videoAnalysis.cancel(analysis_job_id);
    assert.equal(status.status, 'cancelled');
    await until(() => child.output().includes(`"event":"cancelled","analysis_job_id":"${analysis_job_id}"`), 1000, 'the worker to report the cancel');
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    // The worker is free again: it takes the next job.
    const next = await addFakeMedia(lib, dir, 'after-cancel');
    const job = await lib.videoAnalysis.queue(next);
    assert.equal((await lib.videoAnalysis.waitForCompletion(job.analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 50 })).status, 'completed');
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  });

  test('SIGTERM lets the running job checkpoint: it goes back to the queue with its finished steps', async () => {
    const { library: lib, file, log } = await library();
    const media = await addFakeMedia(lib, dir, 'sigterm', { stepMs: { detect: 800, enrich: 30_000 } });
    const { analysis_job_id } = await lib.videoAnalysis.queue(media);
    const child = worker(file, log, ['--grace-ms', '3000']);
    await until(async () => (await lib.videoAnalysis.getStatus(analysis_job_id)).current_step?.startsWith('Detecting scenes ('), 10_000, 'detect');
    child.kill('SIGTERM');
    const t0 = Date.now();
    assert.equal(await exited(child), 0);
    // detect (800 ms) finished within the grace period; enrich would take 30 s, so it was interrupted.
    assert.ok(Date.now() - t0 < 4500);
    const steps = await lib.store.getSteps(analysis_job_id);
    assert.deepEqual(steps.filter((s) => s.status === 'done').map((s) => s.step), ['probe', 'detect']);
    const status = await lib.videoAnalysis.getStatus(analysis_job_id);
    assert.equal(status.status, 'pending');
    assert.match(child.output(), /"event":"released"/);
  });

  test('a library process exits by itself after close(): no handle or child process left', async () => {
    const { file } = await library();
    const script = `
      import { openLibrary } from ${JSON.stringify(pathToFileURL(path.join(DIST, 'src', 'library', 'library.js')).href)};
      import pipelineModule from ${JSON.stringify(pathToFileURL(pipelineModule).href)};
      import { writeFileSync } from 'node:fs';
      const lib = await openLibrary({ path: ${JSON.stringify(file)}, pipeline: pipelineModule, workers: 2, pollMs: 50 });
      const spec = ${JSON.stringify(path.join(dir, 'exit.fake'))};
      writeFileSync(spec, JSON.stringify({ stepMs: { detect: 50 } }));
      await lib.store.insertMedia({ media_id: 'med_exit', file_path: spec, source_path: spec, file_name: 'exit.fake', copied: false, sha256: null, file_size_bytes: 1, upload_status: 'completed', video_metadata: null, poster_path: null, error_code: null, error_message: null, owner: null, created_at: Date.now(), updated_at: Date.now() });
      const { analysis_job_id } = await lib.videoAnalysis.queue('med_exit');
      const status = await lib.videoAnalysis.waitForCompletion(analysis_job_id, { pollIntervalMs: 20 });
      await lib.close();
      console.log(status.status);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited(child);
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.equal(out.trim(), 'completed');
  });
});
