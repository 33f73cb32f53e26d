/**
 * The library with the real engine: uploads probed by ffprobe, jobs running probe + detectScenes + scene
 * thumbnails on ffmpeg-generated clips, bad files, cancel during decoding, and a worker killed mid-detection.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasCode } from '../src/errors.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { DIST, exited, ffmpegOrNull, makeClip, processesMentioning, spawnWorker, until } from './library-helpers.js';

const ffmpeg = ffmpegOrNull();
const skip = ffmpeg === null ? 'ffmpeg is not available' : false;
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-pipeline-'));
const clips = path.join(dir, 'clips');
const libraries: Library[] = [];
const children: Array<ReturnType<typeof spawnWorker>> = [];
let n = 0;

/** 2 s testsrc2 + 2 s smptebars: one cut at 2.0 s. */
const cut = path.join(clips, 'cut.mp4');
/** 60 s in three 20 s segments, 320x240: long enough to interrupt detection. */
const long = path.join(clips, 'long.mp4');

before(() => {
  if (skip) return;
  mkdirSync(clips, { recursive: true });
  makeClip(cut, ['testsrc2', 'smptebars'], 2);
  makeClip(long, ['testsrc2', 'smptebars', 'rgbtestsrc'], 20, { size: '320x240' });
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(libraries.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function lib(options: { workers?: number; file?: string } = {}): Promise<Library> {
  const library = await openLibrary({ path: options.file ?? path.join(dir, `lib-${++n}.db`), workers: options.workers ?? 1, pollMs: 50 });
  libraries.push(library);
  return library;
}

const JPEG = (bytes: Buffer): boolean => bytes.length > 100 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

suite('library with the real engine', { skip }, () => {
  test('upload: uploading -> processing -> completed, metadata and poster at once, duplicates by content, copy', async () => {
    const library = await lib({ workers: 0 });
    const statuses: string[] = [];
    const result = await library.media.upload(cut, { autoAnalyze: false, onProgress: (p) => statuses.push(p.upload_status) });
    assert.deepEqual([...new Set(statuses)], ['uploading', 'processing', 'completed']);
    assert.equal(result.upload_status, 'completed');
    assert.equal(result.duplicate, false);
    assert.equal(result.analysis_job_id, null);
    assert.match(result.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(result.sha256, execFileSync('sha256sum', [cut], { encoding: 'utf8' }).split(' ')[0]);
    const status = await library.media.getProcessingStatus(result.media_id);
    assert.equal(status.video_metadata?.resolution, '160x120');
    assert.equal(status.video_metadata?.format_name, 'mp4');
    assert.ok(Math.abs((status.video_metadata?.duration_seconds ?? 0) - 4) < 0.1);
    assert.equal(status.analysis, null);
    assert.ok(status.poster_url?.startsWith('file://'));
    assert.ok(JPEG(readFileSync(fileURLToPath(status.poster_url!))));

    const elsewhere = path.join(dir, 'same-content.mp4');
    copyFileSync(cut, elsewhere);
    const dup = await library.media.upload(elsewhere);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.media_id, result.media_id);
    assert.match(dup.analysis_job_id ?? '', /^job_/, 'autoAnalyze queues the existing media');

    const other = path.join(dir, 'other.mp4');
    makeClip(other, ['smptebars'], 1);
    const copied = await library.media.upload(other, { copy: true, autoAnalyze: false });
    assert.ok(copied.file_path.startsWith(library.assetsDir + path.sep));
    assert.deepEqual(readFileSync(copied.file_path), readFileSync(other));

    await assert.rejects(library.media.upload(path.join(dir, 'missing.mp4')), (e: unknown) => hasCode(e, 'FILE_NOT_FOUND'));
    await assert.rejects(library.media.upload(clips), (e: unknown) => hasCode(e, 'NOT_A_FILE') && /uploadFolder/.test((e as Error).message));
  });

  test('folders are walked for video files', async () => {
    const library = await lib({ workers: 0 });
    const folder = path.join(dir, 'folder');
    mkdirSync(path.join(folder, 'sub'), { recursive: true });
    makeClip(path.join(folder, 'b.mp4'), ['testsrc2'], 1);
    makeClip(path.join(folder, 'a.mov'), ['smptebars'], 1);
    makeClip(path.join(folder, 'sub', 'c.mkv'), ['rgbtestsrc'], 1);
    writeFileSync(path.join(folder, 'notes.txt'), 'not a video');
    const flat = await library.media.uploadFolder(folder, { recursive: false, autoAnalyze: false });
    assert.deepEqual(flat.items.map((i) => path.basename(i.file_path)), ['a.mov', 'b.mp4']);
    const deep = await library.media.uploadFolder(folder, { autoAnalyze: false });
    assert.deepEqual(deep.items.map((i) => [path.basename(i.file_path), i.duplicate]), [['a.mov', true], ['b.mp4', true], ['c.mkv', false]]);
    assert.deepEqual(deep.errors, []);
  });

  test('real analysis: scenes at the cut, enriched text, thumbnails; search by visible text and by tag; similar', async (t) => {
    const clip = path.join(dir, 'harbour.mp4');
    try {
      execFileSync(ffmpeg!, [
        '-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'lavfi', '-i', 'color=c=white:size=320x240:rate=25:duration=2',
        '-f', 'lavfi', '-i', 'smptebars=size=320x240:rate=25:duration=2',
        '-filter_complex', "[0:v]drawtext=text='HARBOUR VIEW':fontsize=36:fontcolor=black:x=20:y=100[t];[t][1:v]concat=n=2:v=1:a=0[v]",
        '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip,
      ], { stdio: 'ignore' });
    } catch {
      t.skip('this ffmpeg cannot draw text (no drawtext filter or no font)');
      return;
    }
    const library = await lib();
    const { media_id, analysis_job_id } = await library.media.upload(clip);
    const statuses = new Set<string>();
    const done = await library.videoAnalysis.waitForCompletion(analysis_job_id!, { timeoutMs: 60_000, pollIntervalMs: 50, onProgress: (s) => statuses.add(s.status) });
    assert.equal(done.status, 'completed');
    assert.ok(statuses.has('uploading_to_vlm'), [...statuses].join());
    const scenes = await library.videoScenes.list(media_id);
    assert.deepEqual(scenes.items.map((s) => [s.scene_index, s.start_time, s.end_time]), [[0, 0, 2], [1, 2, 4]]);
    assert.deepEqual(scenes.items.map((s) => s.time_range_formatted), ['00:00:00.000-00:00:02.000', '00:00:02.000-00:00:04.000']);
    const [text, bars] = [scenes.items[0]!, scenes.items[1]!];
    assert.match(text.visible_text ?? '', /HARBOUR/);
    // What analyzeFile returns beside the hosted fields comes back from the library too.
    const line = text.text_lines?.find((l) => /HARBOUR/.test(l.text));
    assert.ok(line !== undefined, JSON.stringify(text.text_lines));
    assert.ok(['ppocr', 'tesseract'].includes(line.engine) && line.confidence > 0 && line.confidence <= 1 && line.first_seen <= line.last_seen && typeof line.persistent === 'boolean', JSON.stringify(line));
    assert.ok(text.tag_scores.length >= text.tags.length && text.tags.every((tag) => text.tag_scores.some((t) => t.tag === tag)), JSON.stringify(text.tag_scores));
    assert.ok(Array.isArray(scenes.degraded));
    const exported = JSON.parse(await library.exportScenes(media_id, 'json')) as { degraded: unknown[]; scenes: Array<{ text_lines: unknown; tag_scores: unknown }> };
    assert.deepEqual(exported.scenes.map((s) => [s.text_lines, s.tag_scores]), scenes.items.map((s) => [s.text_lines, s.tag_scores]));
    assert.deepEqual(exported.degraded, scenes.degraded);
    for (const scene of scenes.items) {
      assert.ok(scene.description !== null && scene.description.length > 0);
      assert.equal(scene.embedding_status, 'completed');
      assert.ok(scene.confidence_score !== null && scene.confidence_score > 0 && scene.confidence_score <= 1);
      assert.ok(JPEG(await library.videoScenes.getThumbnail(scene.scene_id)));
    }
    await assert.rejects(library.videoScenes.getThumbnail('scn_missing'), (e: unknown) => hasCode(e, 'NOT_FOUND'));
    const again = await library.media.upload(clip);
    assert.deepEqual([again.duplicate, again.media_id, again.analysis_job_id], [true, media_id, analysis_job_id], 'a duplicate keeps its analysis');

    const byText = await library.search.scenes('harbour');
    assert.deepEqual(byText.items.map((g) => [g.video_id, g.scenes.map((s) => s.scene_id)]), [[media_id, [text.scene_id]]]);
    assert.ok(text.tags.length > 0);
    const onlyTextTag = text.tags.find((tag) => !bars.tags.includes(tag)) ?? text.tags[0]!;
    const byTag = await library.search.scenes(onlyTextTag);
    assert.ok(byTag.items[0]!.scenes.some((s) => s.scene_id === text.scene_id), `tag ${onlyTextTag}`);
    const similar = await library.search.similar(text.scene_id);
    assert.deepEqual(similar.items.map((s) => s.scene_id), [bars.scene_id]);
    assert.match(similar.model_id, /\S/);
  });

  test('bad files end as failed jobs with their error code; the other jobs complete', async () => {
    const library = await lib({ workers: 0 });
    const bad = path.join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, 'empty.mp4'), '');
    writeFileSync(path.join(bad, 'text.mp4'), 'this is not a video file at all\n'.repeat(50));
    execFileSync(ffmpeg!, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', path.join(bad, 'audio.mp4')]);
    copyFileSync(cut, path.join(bad, 'good.mp4'));
    const batch = await library.media.uploadFolder(bad);
    const byName = new Map(batch.items.map((i) => [path.basename(i.file_path), i]));
    assert.deepEqual(
      ['audio.mp4', 'empty.mp4', 'text.mp4'].map((name) => [name, byName.get(name)?.upload_status, byName.get(name)?.error_code]),
      [['audio.mp4', 'failed', 'NO_VIDEO_STREAM'], ['empty.mp4', 'failed', 'EMPTY_FILE'], ['text.mp4', 'failed', 'UNSUPPORTED_FORMAT']],
    );
    library.startWorkers({ concurrency: 1 });
    const outcome = new Map<string, string>();
    for (const [name, item] of byName) {
      try {
        outcome.set(name, (await library.videoAnalysis.waitForCompletion(item.analysis_job_id!, { timeoutMs: 30_000, pollIntervalMs: 50 })).status);
      } catch (error) {
        assert.ok(hasCode(error, 'JOB_FAILED'));
        const status = (await library.videoAnalysis.getStatus(item.analysis_job_id!))!;
        outcome.set(name, `${status.status} ${status.error_code}`);
      }
    }
    assert.deepEqual(Object.fromEntries(outcome), { 'audio.mp4': 'failed NO_VIDEO_STREAM', 'empty.mp4': 'failed EMPTY_FILE', 'text.mp4': 'failed UNSUPPORTED_FORMAT', 'good.mp4': 'completed' });
  });

  test('cancel during decoding: cancelled within a second, no ffmpeg process left', async () => {
    const library = await lib();
    const clip = path.join(dir, 'cancel-me.mp4');
    copyFileSync(long, clip);
    const { analysis_job_id } = await library.media.upload(clip);
    await until(async () => /^Detecting scenes \([1-9]\d*\//.test((await library.videoAnalysis.getStatus(analysis_job_id!)).current_step ?? ''), 30_000, 'decoding to start');
    assert.ok(processesMentioning(clip).length > 0, 'ffmpeg is decoding the clip');
    const t0 = Date.now();
    const status = await library.videoAnalysis.cancel(analysis_job_id!);
    assert.equal(status.status, 'cancelled');
    await until(() => processesMentioning(clip).length === 0, 1000, 'ffmpeg to be gone');
    await until(() => library.runningJobIds.length === 0, 1000, 'the job to let go');
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    assert.equal((await library.videoAnalysis.getStatus(analysis_job_id!)).status, 'cancelled');
    assert.equal((await library.videoScenes.list(status.media_id)).total_count, 0);
  });

  test('a process that analysed with the real engine exits by itself after close()', async () => {
    const clip = path.join(dir, 'exit.mp4');
    makeClip(clip, ['rgbtestsrc', 'testsrc2'], 1);
    const script = `
      import { openLibrary } from ${JSON.stringify(pathToFileURL(path.join(DIST, 'src', 'library', 'library.js')).href)};
      const lib = await openLibrary({ path: ${JSON.stringify(path.join(dir, 'exit.db'))}, pollMs: 50 });
      const { analysis_job_id } = await lib.media.upload(${JSON.stringify(clip)});
      const status = await lib.videoAnalysis.waitForCompletion(analysis_job_id, { pollIntervalMs: 50 });
      const scenes = await lib.videoScenes.list(status.media_id);
      await lib.close();
      console.log(status.status, scenes.total_count, scenes.items[0].description !== null);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await exited(child);
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.equal(out.trim(), 'completed 2 true');
  });

  test('a worker killed with SIGKILL during detection: a new worker finishes, same scenes as an undisturbed run', async () => {
    const control = await lib();
    const undisturbed = await control.media.upload(long);
    await control.videoAnalysis.waitForCompletion(undisturbed.analysis_job_id!, { timeoutMs: 60_000, pollIntervalMs: 50 });
    const expected = (await control.videoScenes.list(undisturbed.media_id)).items.map((s) => [s.scene_index, s.start_time, s.end_time, s.confidence_score]);
    assert.equal(expected.length, 3);

    const file = path.join(dir, `lib-${++n}.db`);
    const library = await lib({ file, workers: 0 });
    const { media_id, analysis_job_id } = await library.media.upload(long);
    const first = spawnWorker(file, ['--lease-ms', '1000', '--poll-ms', '50']);
    children.push(first);
    await until(async () => /^Detecting scenes \([1-9]\d*\//.test((await library.videoAnalysis.getStatus(analysis_job_id!)).current_step ?? ''), 30_000, 'detection to start');
    first.kill('SIGKILL');
    assert.equal(await exited(first), 'SIGKILL');
    const second = spawnWorker(file, ['--lease-ms', '1000', '--poll-ms', '50', '--exit-when-idle']);
    children.push(second);
    const done = await library.videoAnalysis.waitForCompletion(analysis_job_id!, { timeoutMs: 60_000, pollIntervalMs: 50 });
    assert.equal(done.status, 'completed');
    assert.equal(await exited(second), 0, second.output());
    const steps = await library.store.getSteps(analysis_job_id!);
    assert.deepEqual(steps.map((s) => [s.step, s.status, s.step === 'detect' ? s.attempts : 1]), [['probe', 'done', 1], ['detect', 'done', 2], ['enrich', 'done', 1]]);
    assert.deepEqual((await library.videoScenes.list(media_id)).items.map((s) => [s.scene_index, s.start_time, s.end_time, s.confidence_score]), expected);
    assert.deepEqual(await library.integrityCheck(), ['ok']);
    assert.equal(existsSync(file + '-wal') || existsSync(file), true);
  });
});
