/**
 * The one-pass frame stream of the enricher (src/enrich/frame-stream.ts): frames handed to each scene are the
 * ones decodeFramesAt decodes alone at the same times, lost targets are known as lost, a scene that stops
 * reading its OCR samples does not stall the others, and waiting frames pause ffmpeg without being dropped.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { decodeFramesAt } from '../src/enrich/frames.js';
import { FrameStream, showinfoTime, STREAM_BUFFER, windowsOf } from '../src/enrich/frame-stream.js';
import { ffmpeg, tempDir } from './helpers/clips.js';

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

suite('enrich: frame stream', () => {
  let dir = '';
  let clip = '';
  before(async () => {
    dir = tempDir('scenescope-frame-stream-');
    clip = path.join(dir, 'clip.mp4');
    // testsrc2 draws a frame counter: every frame differs from its neighbours. GOP 25 so windows seek.
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=6', '-c:v', 'libx264', '-g', '25', '-pix_fmt', 'yuv420p', clip]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('windows split at the target count and at long gaps; showinfo lines give the frame time', () => {
    assert.deepEqual(windowsOf([0, 1, 2, 3, 4], 2, 10), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(windowsOf([0, 1, 20, 21], 64, 10), [[0, 1], [20, 21]]);
    assert.equal(showinfoTime('[Parsed_showinfo_1 @ 0xc510840] n:   1 pts:  13056 pts_time:1.02    pos:   800595 fmt:rgb24 sar:1/1'), 1.02);
    assert.equal(showinfoTime('[Parsed_showinfo_1 @ 0xc510840] color_range:tv color_space:unknown'), null);
    assert.equal(showinfoTime('frame=    2 fps=0.0 q=-0.0 Lsize=    3038kB time=00:00:01.08'), null);
  });

  test('each scene gets the frames decodeFramesAt decodes alone, models and OCR samples from one pass', async () => {
    const requests = [
      { model: [0.4, 1, 1.6], ocr: [0, 1, 1.96] },
      { model: [2.6, 3, 3.4], ocr: [2, 3, 3.96] },
      // Targets closer than a frame are one frame; it is handed to both roles.
      { model: [4.5], ocr: [4.5, 4.51, 5.5] },
    ];
    const stream = new FrameStream(clip, requests, { frameDuration: 0.04 });
    for (const [i, request] of requests.entries()) {
      const feed = stream.scene(i);
      const ocr: { time: number; data: Uint8Array }[] = [];
      for await (const f of feed.ocr()) ocr.push({ time: f.time, data: f.image.data });
      const model = await feed.model();
      const alone = await decodeFramesAt(clip, request.model, { frameDuration: 0.04 });
      assert.deepEqual(model.map((f) => f.time), alone.map((f) => f.time));
      model.forEach((f, k) => assert.ok(same(f.image.data, alone[k]!.image.data), `scene ${i} model sample at ${f.time} differs from decodeFramesAt`));
      const ocrAlone = await decodeFramesAt(clip, request.ocr, { frameDuration: 0.04 });
      assert.deepEqual(ocr.map((f) => f.time), ocrAlone.map((f) => f.time), `scene ${i} OCR times`);
      ocr.forEach((f, k) => assert.ok(same(f.data, ocrAlone[k]!.image.data), `scene ${i} OCR sample at ${f.time} differs`));
      feed.close();
    }
    stream.close();
  });

  test('a target past the end fails only its scene, with DECODE_FAILED', async () => {
    const stream = new FrameStream(clip, [{ model: [1], ocr: [] }, { model: [30], ocr: [30, 31] }], { frameDuration: 0.04 });
    assert.equal((await stream.scene(0).model()).length, 1);
    const late = stream.scene(1);
    const read: number[] = [];
    for await (const f of late.ocr()) read.push(f.time);
    assert.deepEqual(read, []);
    await assert.rejects(late.model(), { code: 'DECODE_FAILED' });
    stream.close();
  });

  test('a scene that stops reading its OCR samples does not stall its models or the next scenes', async () => {
    const times = Array.from({ length: 50 }, (_, i) => i * 0.1);
    const stream = new FrameStream(clip, [{ model: [4.8], ocr: times }, { model: [5.6], ocr: [5.2, 5.6] }], { frameDuration: 0.04 });
    const first = stream.scene(0);
    let n = 0;
    for await (const _ of first.ocr()) if (++n === 2) break;
    assert.equal((await first.model()).length, 1);
    const second = stream.scene(1);
    const read: number[] = [];
    for await (const f of second.ocr()) read.push(f.time);
    assert.deepEqual(read, [5.2, 5.6]);
    assert.equal((await second.model()).length, 1);
    stream.close();
  });

  test('frames of scenes not started yet pause ffmpeg and are all delivered later', async () => {
    const a = Array.from({ length: 20 }, (_, i) => i * 0.12);
    const b = Array.from({ length: STREAM_BUFFER * 3 }, (_, i) => 2.5 + i * 0.12);
    const stream = new FrameStream(clip, [{ model: [1], ocr: a }, { model: [3], ocr: b }], { frameDuration: 0.04 });
    const first = stream.scene(0);
    let count = 0;
    for await (const _ of first.ocr()) {
      count++;
      // A slow reader: the stream runs ahead into the second scene until its buffer is full.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(count, a.length);
    const second = stream.scene(1);
    const read: number[] = [];
    for await (const f of second.ocr()) read.push(f.time);
    assert.deepEqual(read, b);
    stream.close();
  });

  test('close() rejects what is still awaited with AbortError', async () => {
    const stream = new FrameStream(clip, [{ model: [5.5], ocr: [] }], { frameDuration: 0.04 });
    const waiting = stream.scene(0).model();
    stream.close();
    await assert.rejects(waiting, { name: 'AbortError' });
  });
});
