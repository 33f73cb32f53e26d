/**
 * Buffers go round instead of being allocated per batch: the feature worker hands the frame buffer back and
 * writes the features into a buffer the caller lends it, and decoding fills the buffers it is given back.
 * Allocating two fresh buffers a batch (4 MB of frames, 49 KB of features) and freeing them late in another
 * thread fragmented the C heap, so RSS grew with the video's length (benchmarks/memory.ts measures that).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { suite, test } from 'node:test';
import { FeaturePool } from '../src/features/pool.js';
import { allocBatch, batchBytes, computeFeaturesTS } from '../src/features/kernel.js';
import { decodeBatches, FrameTimes } from '../src/media/decode.js';
import { SeriesFile } from '../src/features/series-file.js';
import { probe } from '../src/media/probe.js';
import { BufferPool } from '../src/util/buffer-pool.js';
import { tempDir } from './helpers/clips.js';
import { transitionsClip } from './helpers/transitions.js';

function noise(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

suite('buffers are reused, not reallocated', () => {
  test('BufferPool hands back a given buffer of the asked size, drops other sizes, and keeps at most its limit', () => {
    const pool = new BufferPool(2);
    const a = pool.take(16);
    assert.equal(a.byteLength, 16);
    pool.give(a);
    pool.give(a);
    assert.equal(pool.size, 1, 'the same buffer is not kept twice');
    assert.equal(pool.take(16), a);
    pool.give(new ArrayBuffer(16));
    pool.give(new ArrayBuffer(16));
    pool.give(new ArrayBuffer(16));
    assert.equal(pool.size, 2);
    const other = pool.take(32);
    assert.equal(other.byteLength, 32);
    assert.equal(pool.size, 0, 'a size no one asks for again is not held');
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    pool.give(detached);
    assert.equal(pool.size, 0, 'a detached buffer is ignored');
  });

  test('computeReusing gives the frames back and writes into the lent feature buffer, with the features compute gives', async () => {
    for (const backend of ['typescript', 'auto'] as const) {
      const pool = new FeaturePool({ threads: 1, backend });
      try {
        const [w, h, count] = [64, 36, 5];
        const frames = noise((count + 1) * w * h * 3, 7);
        const expected = allocBatch(count);
        computeFeaturesTS(frames, w, h, count, true, expected.scalars, expected.hist, expected.hash, expected.grid);
        const features = new ArrayBuffer(batchBytes(count));
        new Uint8Array(features).fill(0xab); // stale content from an earlier batch must not leak into the result
        const input = frames.slice().buffer;
        const first = await pool.computeReusing(input, w, h, count, true, { features });
        assert.equal(input.byteLength, 0, 'the frames were transferred');
        assert.equal(features.byteLength, 0, 'the feature buffer was transferred');
        assert.deepEqual(new Uint8Array(first.frames), frames, 'the frame buffer comes back intact');
        assert.equal(first.batch.scalars.buffer.byteLength, batchBytes(count));
        assert.deepStrictEqual(first.batch, expected, `${backend}: the features over a stale lent buffer equal fresh ones`);
        // Round two with the returned buffers: the same answer, and still no new buffers needed.
        const again = await pool.computeReusing(first.frames, w, h, count, true, { features: first.batch.scalars.buffer as ArrayBuffer });
        assert.deepStrictEqual(again.batch, expected);
        // A lent buffer of the wrong size is not used (nor taken).
        const wrong = new ArrayBuffer(10);
        const third = await pool.computeReusing(again.frames, w, h, count, true, { features: wrong });
        assert.equal(wrong.byteLength, 10);
        assert.deepStrictEqual(third.batch, expected);
      } finally {
        await pool.close();
      }
    }
  });

  test('FrameTimes.takeSeconds equals seconds() across chunk boundaries (backwards pts included) and frees the pts', () => {
    const times = new FrameTimes();
    times.timeBase = [1, 90000];
    times.frameDuration = 1 / 30;
    const n = 140_000; // more than two chunks of 65536
    for (let i = 0; i < n; i++) times.push(3000 * i + (i % 997 === 5 ? -9000 : 0) + 123);
    const expected = times.seconds();
    const first = times.firstSeconds();
    const taken = times.takeSeconds();
    assert.equal(taken.length, n);
    assert.deepEqual(taken, expected);
    for (let i = 1; i < n; i++) assert.ok(taken[i]! > taken[i - 1]!, `strictly increasing at ${i}`);
    assert.equal(times.count, 0, 'the pts are gone');
    assert.equal(times.firstSeconds(), first, 'the first frame time still answers');
  });

  test('a SeriesFile appended without times holds none and refuses to read until setTimes', () => {
    const file = new SeriesFile(30);
    try {
      const batch = allocBatch(3);
      batch.scalars[4] = 7;
      file.appendBatch(batch);
      assert.equal(file.count, 3);
      assert.throws(() => file.timesView(), { code: 'INTERNAL' });
      assert.throws(() => file.window(0, 3), { code: 'INTERNAL' });
      file.setTimes(new Float64Array([0, 0.5, 1]));
      assert.deepEqual([...file.window(0, 3).times], [0, 0.5, 1]);
      assert.equal(file.read(0, 1).scalars[4], 7);
    } finally {
      file.close();
    }
  });

  test('decodeBatches fills buffers it is given back, and yields the same frames as without them', async () => {
    const file = path.join(tempDir(), 'transitions.mp4');
    await transitionsClip(file);
    const probed = await probe(file);
    const plain: Uint8Array[] = [];
    for await (const b of decodeBatches(probed, new FrameTimes(), { batchFrames: 16 })) plain.push(new Uint8Array(b.buffer).slice());
    const pool = new BufferPool(4);
    const seen = new Set<ArrayBuffer>();
    let i = 0;
    for await (const b of decodeBatches(probed, new FrameTimes(), { batchFrames: 16, buffers: pool })) {
      assert.deepEqual(new Uint8Array(b.buffer), plain[i], `batch ${i} equals the batch decoded into fresh buffers`);
      seen.add(b.buffer);
      pool.give(b.buffer);
      i++;
    }
    assert.equal(i, plain.length);
    assert.ok(plain.length >= 8, `the clip makes enough batches to show reuse (${plain.length})`);
    assert.ok(seen.size <= 4, `${plain.length} batches used ${seen.size} buffers`);
  });
});
