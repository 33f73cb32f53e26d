/**
 * The library subcommands (add, status, scenes, search, retry, cancel, export), run in-process through
 * runLibraryCommand with captured output; the worker subcommand is covered by library-workers.test.ts.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { openLibrary } from '../src/library/library.js';
import type { VideoAnalysisJobStatus, VideoSceneList } from '../src/types.js';
import { addFakeMedia, ffmpegOrNull, loadFakePipeline, makeClip, writeFakePipeline, runLibraryCli } from './library-helpers.js';

const skip = ffmpegOrNull() === null ? 'ffmpeg is not available' : false;
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-cli-'));
const db = path.join(dir, 'cli.db');
const clip = path.join(dir, 'clip.mp4');

before(() => {
  if (!skip) makeClip(clip, ['testsrc2', 'smptebars'], 2);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const run = runLibraryCli;

suite('library CLI commands', { skip }, () => {
  let mediaId = '';
  let jobId = '';

  test('add --wait --json analyses and prints {items: [{media_id, analysis_job_id}]}; --library anywhere', async () => {
    const result = await run('add', ['--json', clip, '--wait', '--library', db]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { items: Array<{ media_id: string; analysis_job_id: string; status: string }>; errors: unknown[] };
    assert.equal(out.items.length, 1);
    assert.match(out.items[0]!.media_id, /^med_/);
    assert.match(out.items[0]!.analysis_job_id, /^job_/);
    assert.equal(out.items[0]!.status, 'completed');
    assert.deepEqual(out.errors, []);
    mediaId = out.items[0]!.media_id;
    jobId = out.items[0]!.analysis_job_id;
  });

  test('status prints the VideoAnalysisJobStatus of a job or of a media; SCENESCOPE_LIBRARY works', async () => {
    const byJob = await run('status', [jobId, '--json', `--library=${db}`]);
    assert.equal(byJob.code, 0, byJob.stderr);
    const status = JSON.parse(byJob.stdout) as VideoAnalysisJobStatus;
    assert.deepEqual(Object.keys(status), ['analysis_job_id', 'media_id', 'status', 'progress_percent', 'current_step', 'started_at', 'completed_at', 'error_message', 'error_code', 'retry_count', 'max_retries', 'estimated_completion_time', 'is_completed', 'is_failed', 'is_pending', 'is_terminal']);
    assert.equal(status.status, 'completed');
    const byMedia = await run('status', [mediaId], { SCENESCOPE_LIBRARY: db });
    assert.equal(byMedia.code, 0, byMedia.stderr);
    assert.match(byMedia.stdout, /^analysis_job_id\s+job_\w+\nmedia_id\s+med_\w+\nstatus\s+completed\nprogress_percent\s+100%\n/);
    const list = await run('status', [], { SCENESCOPE_LIBRARY: db });
    assert.match(list.stdout, /^JOB\s+MEDIA\s+STATUS\s+PROGRESS\s+STEP\n/);
    assert.ok(list.stdout.includes(jobId));
  });

  test('scenes prints the VideoSceneList (JSON) or a table', async () => {
    const json = await run('scenes', [mediaId, '--json', '--library', db]);
    const list = JSON.parse(json.stdout) as VideoSceneList;
    assert.equal(list.video_id, mediaId);
    assert.equal(list.total_count, 2);
    assert.deepEqual(list.items.map((s) => s.time_range_formatted), ['00:00:00.000-00:00:02.000', '00:00:02.000-00:00:04.000']);
    const human = await run('scenes', ['--library', db, mediaId]);
    assert.match(human.stdout, /^#\s+TIME\s+CONF\s+DESCRIPTION\n0\s+00:00:00\.000-00:00:02\.000\s+\d\.\d\d\s+\S.*\n1\s+00:00:02\.000-00:00:04\.000\s+\d\.\d\d\s+\S.*\n2 scenes\n$/);
  });

  test('export writes json, csv, edl and vtt; a bad format is a usage error', async () => {
    const vtt = await run('export', [mediaId, '--format', 'vtt', '--library', db]);
    assert.equal(vtt.code, 0);
    assert.match(vtt.stdout, /^WEBVTT\n\nscn_\w+\n00:00:00\.000 --> 00:00:02\.000\nScene 1: [^\n]+\n(?:[^\n]+\n)*\nscn_\w+\n00:00:02\.000 --> 00:00:04\.000\nScene 2: [^\n]+\n(?:[^\n]+\n)*$/);
    const out = path.join(dir, 'scenes.csv');
    assert.equal((await run('export', [mediaId, '--format', 'csv', '--output', out, '--library', db])).code, 0);
    const bad = await run('export', [mediaId, '--format', 'xml', '--library', db]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^scenescope: error \[USAGE\]: --format must be one of json, csv, edl, vtt, got "xml"\n/);
  });

  test('retry and cancel refuse a completed job with exit code 1 and the error code', async () => {
    const retry = await run('retry', [jobId, '--library', db]);
    assert.equal(retry.code, 1);
    assert.equal(retry.stderr, `scenescope: error [INVALID_STATE]: Job ${jobId} is completed; only failed or cancelled jobs can be retried\n`);
    const cancel = await run('cancel', [jobId, '--library', db]);
    assert.equal(cancel.code, 1);
    assert.match(cancel.stderr, /error \[INVALID_STATE\]/);
    const missing = await run('cancel', ['job_nope', '--library', db]);
    assert.equal(missing.stderr, 'scenescope: error [NOT_FOUND]: No analysis job job_nope\n');
  });

  test('add without --wait queues; cancel and retry then work and print their result', async () => {
    const other = path.join(dir, 'other.mp4');
    makeClip(other, ['rgbtestsrc'], 1);
    const added = await run('add', [other, '--json', '--library', db]);
    const item = (JSON.parse(added.stdout) as { items: Array<{ analysis_job_id: string; queue_position: number }> }).items[0]!;
    assert.equal(item.queue_position, 1);
    const cancelled = await run('cancel', [item.analysis_job_id, '--json', '--library', db]);
    assert.equal((JSON.parse(cancelled.stdout) as VideoAnalysisJobStatus).status, 'cancelled');
    const retried = await run('retry', [item.analysis_job_id, '--library', db]);
    assert.equal(retried.stdout, `${item.analysis_job_id}: Retry queued (attempt 1/3)\n`);
  });

  test('add reports missing files and failed jobs with exit code 1; --no-analyze queues nothing', async () => {
    const folder = path.join(dir, 'mixed');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'broken.mp4'), 'garbage'.repeat(100));
    copyFileSync(clip, path.join(folder, 'copy.mp4'));
    const result = await run('add', [folder, path.join(dir, 'missing.mp4'), '--wait', '--json', '--library', db]);
    assert.equal(result.code, 1);
    const out = JSON.parse(result.stdout) as { items: Array<Record<string, unknown>>; errors: Array<Record<string, unknown>> };
    assert.deepEqual(out.errors.map((e) => e.error_code), ['FILE_NOT_FOUND']);
    const broken = out.items.find((i) => String(i.file_path).endsWith('broken.mp4'))!;
    assert.deepEqual([broken.upload_status, broken.status, broken.job_error_code], ['failed', 'failed', 'UNSUPPORTED_FORMAT']);
    const copy = out.items.find((i) => i.duplicate === true)!;
    assert.deepEqual([copy.duplicate, copy.media_id, copy.status], [true, mediaId, 'completed']);
    const fresh = path.join(dir, 'fresh.mp4');
    makeClip(fresh, ['testsrc2'], 1);
    const none = await run('add', ['--no-analyze', '--json', fresh, '--library', db]);
    assert.equal((JSON.parse(none.stdout) as { items: Array<{ analysis_job_id: null }> }).items[0]!.analysis_job_id, null);
  });

  test('search finds scenes by visible text and by tag; --similar by embedding', async () => {
    const searchDb = path.join(dir, 'search.db');
    const pipeline = await loadFakePipeline(writeFakePipeline(dir));
    const library = await openLibrary({ path: searchDb, pipeline, pollMs: 50 });
    const media = await addFakeMedia(library, dir, 'signs', {
      scenes: 2,
      enrich: [
        { description: 'A shop front', tags: ['shop'], visible_text: 'OPEN 24 HOURS', vector: [1, 0] },
        { description: 'A bus stop', tags: ['bus', 'street'], visible_text: 'ROUTE 9', vector: [0.9, 0.1] },
      ],
    });
    await library.videoAnalysis.waitForCompletion((await library.videoAnalysis.queue(media)).analysis_job_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    const firstScene = (await library.videoScenes.list(media)).items[0]!.scene_id;
    await library.close();
    const byText = await run('search', ['hours', '--json', '--library', searchDb]);
    const result = JSON.parse(byText.stdout) as { total_count: number; items: Array<{ video_id: string; scenes: Array<{ description: string }> }> };
    assert.equal(result.total_count, 1);
    assert.equal(result.items[0]!.video_id, media);
    assert.equal(result.items[0]!.scenes[0]!.description, 'A shop front');
    const byTag = await run('search', ['--library', searchDb, 'street']);
    assert.match(byTag.stdout, new RegExp(`^${media}  signs\\.fake\\n  #1  5\\.000-10\\.000  A bus stop \\(bus, \\[street\\]\\)\\n1 matching scene\\n$`));
    const similar = await run('search', ['--similar', firstScene, '--json', '--library', searchDb]);
    assert.deepEqual((JSON.parse(similar.stdout) as { items: Array<{ description: string }> }).items.map((s) => s.description), ['A bus stop']);
  });

  test('usage errors exit with 2', async () => {
    assert.equal((await run('scenes', ['--library', db])).code, 2);
    const unknown = await run('status', ['--frobnicate', '--library', db]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--frobnicate'/);
    assert.equal((await run('nonsense', [])).code, 2);
    assert.equal((await run('add', ['--help'])).code, 0);
  });
});
