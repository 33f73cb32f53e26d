import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite, test, before } from 'node:test';
import { probe, shortFormatName } from '../src/media/probe.js';
import { detectScenes } from '../src/api/detect.js';
import { ScenescopeError } from '../src/errors.js';
import { ffmpeg, makeClip, tempDir } from './helpers/clips.js';

const dir = tempDir();
const clip = path.join(dir, 'clip with spaces é 日本.mp4');

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ScenescopeError, `expected a ScenescopeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(!error.message.includes('\n'), 'one-line message');
    if (message) assert.match(error.message, message);
    return true;
  });
}

suite('probe: VideoMetadata', () => {
  before(async () => {
    await makeClip(clip, [{ kind: 0, seconds: 1 }, { kind: 1, seconds: 1 }], { extra: ['-f', 'mp4'] });
  });

  test('returns the 10 fields of the seed with their types, for a path with spaces and Unicode', async () => {
    const { metadata, stream } = await probe(clip);
    assert.deepEqual(Object.keys(metadata).sort(), ['audio_codec', 'bitrate_kbps', 'duration_seconds', 'file_size_bytes', 'format_name', 'frame_rate', 'height', 'resolution', 'video_codec', 'width']);
    assert.equal(metadata.resolution, '320x180');
    assert.equal(metadata.width, 320);
    assert.equal(metadata.height, 180);
    assert.equal(metadata.frame_rate, 25);
    assert.equal(metadata.video_codec, 'h264');
    assert.equal(metadata.audio_codec, null);
    assert.equal(metadata.format_name, 'mp4');
    assert.ok(Number.isInteger(metadata.bitrate_kbps) && metadata.bitrate_kbps! > 0);
    assert.equal(metadata.file_size_bytes, readFileSync(clip).length);
    assert.ok(Math.abs(metadata.duration_seconds! - 2) < 0.05);
    assert.equal(stream.rotation, 0);
    assert.equal(stream.sample_aspect_ratio, 1);
    assert.equal(stream.variable_frame_rate, false);
  });

  test('reports the audio codec when there is an audio track', async () => {
    const file = path.join(dir, 'with-audio.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:v', 'libx264', '-c:a', 'libvorbis', '-shortest', file]);
    const { metadata } = await probe(file);
    assert.equal(metadata.audio_codec, 'vorbis');
    assert.equal(metadata.format_name, 'mkv');
  });

  test('short container names', () => {
    assert.equal(shortFormatName('mov,mp4,m4a,3gp,3g2,mj2', '/a/b.mp4', 'isom'), 'mp4');
    assert.equal(shortFormatName('mov,mp4,m4a,3gp,3g2,mj2', '/a/b.MOV', 'qt  '), 'mov');
    assert.equal(shortFormatName('mov,mp4,m4a,3gp,3g2,mj2', '/a/b.bin', 'qt  '), 'mov');
    assert.equal(shortFormatName('matroska,webm', '/a/b.webm', undefined), 'webm');
    assert.equal(shortFormatName('avi', '/a/b.avi', undefined), 'avi');
  });
});

suite('bad input: a typed error with a stable code, never a hang', () => {
  test('missing file', () => rejectsWith(detectScenes(path.join(dir, 'nope.mp4')), 'FILE_NOT_FOUND'));

  test('a directory', () => rejectsWith(detectScenes(dir), 'NOT_A_FILE'));

  test('zero bytes', async () => {
    const file = path.join(dir, 'empty.mp4');
    writeFileSync(file, '');
    await rejectsWith(detectScenes(file), 'EMPTY_FILE');
  });

  test('a text file named .mp4', async () => {
    const file = path.join(dir, 'text.mp4');
    writeFileSync(file, 'This is not a video.\n'.repeat(50));
    await rejectsWith(detectScenes(file), 'UNSUPPORTED_FORMAT');
  });

  test('a truncated MP4 (index at the end cut off)', async () => {
    const file = path.join(dir, 'truncated.mp4');
    copyFileSync(clip, file);
    truncateSync(file, Math.floor(readFileSync(clip).length / 2));
    await rejectsWith(detectScenes(file), 'DECODE_FAILED', /truncated or corrupt/);
  });

  test('a truncated MP4 (index first, data cut off)', async () => {
    const full = path.join(dir, 'faststart.mp4');
    await makeClip(full, [{ kind: 0, seconds: 2 }, { kind: 1, seconds: 2 }], { extra: ['-movflags', '+faststart'] });
    const file = path.join(dir, 'faststart-truncated.mp4');
    copyFileSync(full, file);
    truncateSync(file, Math.floor(readFileSync(full).length / 3));
    await rejectsWith(detectScenes(file), 'DECODE_FAILED', /truncated/);
  });

  test('audio only', async () => {
    const file = path.join(dir, 'audio.m4a');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', file]);
    await rejectsWith(detectScenes(file), 'NO_VIDEO_STREAM', /audio only/);
  });

  test('a still image', async () => {
    const file = path.join(dir, 'still.png');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=1:duration=1', '-frames:v', '1', file]);
    await rejectsWith(detectScenes(file), 'STILL_IMAGE');
    const jpeg = path.join(dir, 'still.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=1:duration=1', '-frames:v', '1', '-f', 'mjpeg', jpeg]);
    await rejectsWith(detectScenes(jpeg), 'STILL_IMAGE');
  });

  test('absurd dimensions (a header claiming 20000x20000)', async () => {
    const file = path.join(dir, 'huge.y4m');
    writeFileSync(file, Buffer.concat([Buffer.from('YUV4MPEG2 W20000 H20000 F25:1 Ip A1:1 C420jpeg\nFRAME\n'), Buffer.alloc(4096)]));
    await rejectsWith(detectScenes(file), 'ABSURD_DIMENSIONS', /20000x20000/);
  });

  test('an HLS playlist that references local segments and URLs', async () => {
    const file = path.join(dir, 'list.m3u8');
    writeFileSync(file, `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${clip}\n#EXTINF:2.0,\nhttp://127.0.0.1:9/segment.ts\n#EXT-X-ENDLIST\n`);
    await rejectsWith(detectScenes(file), 'EXTERNAL_REFERENCE');
    const disguised = path.join(dir, 'playlist.mp4');
    copyFileSync(file, disguised);
    await rejectsWith(detectScenes(disguised), 'EXTERNAL_REFERENCE');
  });

  test('an ffconcat list that points at other files', async () => {
    const file = path.join(dir, 'list.ffconcat');
    writeFileSync(file, `ffconcat version 1.0\nfile '${clip}'\nfile '${clip}'\n`);
    await rejectsWith(detectScenes(file), 'EXTERNAL_REFERENCE');
  });

  test('a name that looks like a protocol stays a local file', async () => {
    const sub = path.join(dir, 'http:');
    mkdirSync(sub, { recursive: true });
    const file = path.join(sub, 'x.mp4');
    copyFileSync(clip, file);
    const result = await detectScenes(file);
    assert.equal(result.frame_count, 50);
  });

  test('bad options are rejected at the boundary with the closest valid name', async () => {
    await assert.rejects(detectScenes(clip, { minSceneLength: 1 } as never), /Unknown option "minSceneLength" in detectScenes options; did you mean "minSceneLen"\?/);
    await assert.rejects(detectScenes(clip, { threshold: -1 }), /Expected number between 0 and 1000 for threshold but received -1 of type number/);
    await assert.rejects(detectScenes(clip, { detector: 'magic' as never }), (e: unknown) => e instanceof ScenescopeError && e.code === 'INVALID_OPTION');
  });
});

suite('error codes', () => {
  test('docs/errors.md lists exactly the codes of ERROR_CODES', async () => {
    const { ERROR_CODES } = await import('../src/errors.js');
    const { ROOT } = await import('./helpers/clips.js');
    const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
    const listed = [...doc.split('## Bad input')[0]!.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, Object.keys(ERROR_CODES));
  });
});
