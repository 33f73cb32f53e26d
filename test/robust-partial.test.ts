/**
 * Issue 12, item 2: containers that state no frame count (MKV, WebM, FLV, Ogg) cut with `head -c 30%` must not
 * succeed with a third of their scenes: they fail with DECODE_FAILED, saying how much decoded of how much the
 * file states. Intact files, and an MKV whose audio outlasts its video, still succeed.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, suite, test } from 'node:test';
import { detectScenes } from '../src/api/detect.js';
import { ScenescopeError } from '../src/errors.js';
import { checkDecodedSpan } from '../src/media/decode.js';
import { probe } from '../src/media/probe.js';
import { ffmpeg, tempDir } from './helpers/clips.js';

const dir = tempDir('scenescope-partial-');
const SOURCE = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=10'];
const ENCODERS: Record<string, string[]> = {
  mkv: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50'],
  webm: ['-c:v', 'libvpx', '-b:v', '200k', '-g', '50', '-deadline', 'realtime', '-cpu-used', '8'],
  flv: ['-c:v', 'flv1'],
  ogv: ['-c:v', 'libtheora'],
};

/** The first 30 % of a file, as `head -c 30%` would leave it. */
function cut(file: string): string {
  const bytes = readFileSync(file);
  const out = file.replace(/(\.\w+)$/, '-cut$1');
  writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
  return out;
}

suite('a truncated container without a frame count is a decode failure, not a short success', () => {
  before(async () => {
    await Promise.all(Object.entries(ENCODERS).map(([ext, codec]) => ffmpeg([...SOURCE, ...codec, path.join(dir, `full.${ext}`)])));
  });

  for (const ext of Object.keys(ENCODERS)) {
    test(`${ext}: the whole file decodes; its first 30 % fails with DECODE_FAILED and the decoded span`, async () => {
      const full = await detectScenes(path.join(dir, `full.${ext}`));
      assert.ok(full.frame_count >= 249, `${full.frame_count} frames`);
      const truncated = cut(path.join(dir, `full.${ext}`));
      await assert.rejects(detectScenes(truncated), (error: unknown) => {
        assert.ok(error instanceof ScenescopeError, String(error));
        assert.equal(error.code, 'DECODE_FAILED', error.message);
        assert.match(error.message, new RegExp(`^full-cut\\.${ext} is truncated or corrupt: (decoded \\d\\.\\d{3} s of the 10\\.000 s it states|its last Ogg page is incomplete or not an end-of-stream page \\(decoded \\d\\.\\d{3} s\\))`));
        const details = error.details as { decoded_seconds: number };
        assert.ok(details.decoded_seconds > 1 && details.decoded_seconds < 4.5, `decoded ${details.decoded_seconds} s`);
        return true;
      });
    });
  }

  test('an MKV whose audio outlasts its video is complete', async () => {
    const file = path.join(dir, 'short-video.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=3', '-f', 'lavfi', '-i', 'sine=duration=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'libvorbis', file]);
    const result = await detectScenes(file);
    assert.equal(result.frame_count, 75);
  });

  test('a range decode compares with the range, not the file', async () => {
    const probed = await probe(path.join(dir, 'full.mkv'));
    assert.throws(() => checkDecodedSpan(probed, 3, []), /decoded 3\.000 s of the 10\.000 s it states/);
    assert.doesNotThrow(() => checkDecodedSpan(probed, 3, [], 3));
    assert.doesNotThrow(() => checkDecodedSpan(probed, 9.9, []), 'within three frames');
    assert.throws(() => checkDecodedSpan(probed, 9.5, []), /decoded 9\.500 s/);
  });
});
