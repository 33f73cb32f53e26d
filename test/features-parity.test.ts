/**
 * The native addon and the TypeScript twin compute bit-identical features (every array, every bit of every
 * double), on random frames of odd sizes, on every RGB colour and on real decoded video; the loader reports
 * and enforces its choice; the worker pool returns the same batches and moves buffers instead of copying.
 *
 * Without the addon these tests FAIL (run `npm run build:native`), unless SCENESCOPE_NATIVE=0 says to skip
 * the native side on purpose.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite, test } from 'node:test';
import { ScenescopeError } from '../src/errors.js';
import { findPackageRoot, loadFeatureEngine, loadNativeBinding, type FeatureEngine } from '../src/features/engine.js';
import { allocBatch, computeFeaturesTS, cosTableTS, KERNEL_VERSION, type ComputeFeatures } from '../src/features/kernel.js';
import { FeaturePool } from '../src/features/pool.js';
import computeTask from '../src/features/worker.js';
import { SCALAR_COUNT, type FeatureBatch } from '../src/features/types.js';
import { fileUrl, resolveFfmpegPaths, runTool, safeInputArgs } from '../src/media/ffmpeg.js';

const NATIVE_OFF = process.env['SCENESCOPE_NATIVE'] === '0';
const skipNative = NATIVE_OFF ? 'SCENESCOPE_NATIVE=0: the native addon is disabled on purpose' : false;

const root = findPackageRoot();
const testVideo = root === null ? null : path.resolve(root, '..', 'shared', 'media', 'peer', 'testvideo.mp4');
const skipReal = NATIVE_OFF ? skipNative : testVideo === null || !existsSync(testVideo) ? `../shared/media/peer/testvideo.mp4 is absent` : false;

function native(): FeatureEngine {
  // Throws NATIVE_UNAVAILABLE (failing the test) with every cause and the fix when the addon did not load.
  return loadFeatureEngine({ requireNative: true });
}

function run(compute: ComputeFeatures, frames: Uint8Array, w: number, h: number, count: number, hasPrev: boolean): FeatureBatch {
  const batch = allocBatch(count);
  compute(frames, w, h, count, hasPrev, batch.scalars, batch.hist, batch.hash, batch.grid);
  return batch;
}

function assertParity(engine: FeatureEngine, frames: Uint8Array, w: number, h: number, count: number, hasPrev: boolean, what: string): FeatureBatch {
  const a = run(engine.compute, frames, w, h, count, hasPrev);
  const b = run(computeFeaturesTS, frames, w, h, count, hasPrev);
  assert.deepStrictEqual(a, b, what);
  return a;
}

function randomBytes(length: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function withEnv<T>(value: string | undefined, body: () => T): T {
  const saved = process.env['SCENESCOPE_NATIVE'];
  if (value === undefined) delete process.env['SCENESCOPE_NATIVE'];
  else process.env['SCENESCOPE_NATIVE'] = value;
  try {
    return body();
  } finally {
    if (saved === undefined) delete process.env['SCENESCOPE_NATIVE'];
    else process.env['SCENESCOPE_NATIVE'] = saved;
  }
}

function hasCode(code: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ScenescopeError, `expected a ScenescopeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

suite('features: native addon and TypeScript twin', () => {
  test('the addon loads from build/Release and reports the kernel version', { skip: skipNative }, () => {
    const info = native().info();
    assert.equal(info.backend, 'native');
    assert.equal(info.native.loaded, true);
    assert.match(info.native.path ?? '', /build[\\/](Release|Debug)[\\/]scenescope_native\.node$/);
    assert.deepEqual(info.native.errors, []);
    assert.equal(loadNativeBinding().binding?.version, KERNEL_VERSION);
  });

  test('the cosine tables are equal', { skip: skipNative }, () => {
    native();
    assert.deepStrictEqual(loadNativeBinding().binding!.cosTable(), cosTableTS());
  });

  test('random frames of odd sizes, with and without a previous frame', { skip: skipNative }, () => {
    const engine = native();
    for (const [w, h] of [[8, 8], [17, 9], [33, 31], [47, 8], [192, 108], [320, 180]] as const) {
      for (const hasPrev of [false, true]) {
        const count = 3;
        const frames = randomBytes((count + (hasPrev ? 1 : 0)) * w * h * 3, w * 7919 + h * 31 + (hasPrev ? 1 : 0));
        assertParity(engine, frames, w, h, count, hasPrev, `${w}x${h} hasPrev=${hasPrev}`);
      }
    }
  });

  test('every one of the 2^24 RGB colours, as 16 frames of 1024 x 1024', { skip: skipNative }, () => {
    const engine = native();
    const side = 1024;
    const frames = new Uint8Array(16 * side * side * 3);
    // Colour c = (R << 16 | G << 8 | B) at pixel c: each frame holds 16 values of R, every G and B.
    for (let c = 0; c < 1 << 24; c++) {
      frames[3 * c] = c >>> 16;
      frames[3 * c + 1] = (c >>> 8) & 255;
      frames[3 * c + 2] = c & 255;
    }
    // hasPrev: the first frame is only the previous one, so every other frame's deltas are checked.
    assertParity(engine, frames, side, side, 15, true, 'every colour');
  });

  test('real frames: testvideo.mp4 at 192x108, in chained batches across its first cut', { skip: skipReal }, async () => {
    const engine = native();
    const { ffmpeg } = resolveFfmpegPaths();
    const frames = 48;
    const size = 192 * 108 * 3;
    const { code, stdout, stderr } = await runTool(ffmpeg, [
      '-v', 'error', ...safeInputArgs(), '-i', fileUrl(testVideo!), '-frames:v', String(frames),
      '-vf', 'scale=192:108', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.length, frames * size);
    const lum: number[] = [];
    for (let start = 0; start < frames; start += 16) {
      const hasPrev = start > 0;
      const slice = new Uint8Array(stdout.buffer, stdout.byteOffset + (start - (hasPrev ? 1 : 0)) * size, (16 + (hasPrev ? 1 : 0)) * size);
      const batch = assertParity(engine, slice, 192, 108, 16, hasPrev, `frames ${start}..${start + 15}`);
      for (let i = 0; i < 16; i++) lum.push(batch.scalars[i * SCALAR_COUNT + 2]!);
    }
    // Sanity: the decoded frames are the real clip, whose first hard cut is at frame 30.
    assert.equal(lum.indexOf(Math.max(...lum)), 30);
  });

  test('bad arguments give the same error class and message from both', { skip: skipNative }, () => {
    const engine = native();
    const b = allocBatch(2);
    const cases: unknown[][] = [
      [new Uint8Array(10), 8, 8, 2, false],
      [new Uint8Array(2 * 192), 7, 8, 2, false],
      [new Uint8Array(2 * 192), 8, 8.5, 2, false],
      [new Uint8Array(2 * 192), 8, 8, 2, 'no'],
      [new Float32Array(2 * 192), 8, 8, 2, false],
      [new Uint8Array(2 * 192), 8, 8, 3, false],
    ];
    for (const args of cases) {
      const call = (compute: ComputeFeatures) => (): void => (compute as (...a: unknown[]) => void)(...args, b.scalars, b.hist, b.hash, b.grid);
      let expected: unknown;
      assert.throws(call(computeFeaturesTS), (error: unknown) => ((expected = error), true));
      assert.throws(call(engine.compute), (error: unknown) => {
        assert.equal((error as Error).constructor, (expected as Error).constructor);
        assert.equal((error as Error).message, (expected as Error).message);
        return true;
      });
    }
  });

  test('SCENESCOPE_NATIVE=0 forces TypeScript and says why; an unknown value is an option error', () => {
    const engine = withEnv('0', () => loadFeatureEngine());
    assert.equal(engine.backend, 'typescript');
    assert.deepEqual(engine.info().native, { loaded: false, errors: ['disabled by SCENESCOPE_NATIVE=0'] });
    assert.throws(() => withEnv('0', () => loadFeatureEngine({ requireNative: true })), hasCode('NATIVE_UNAVAILABLE', /SCENESCOPE_NATIVE=0/));
    assert.throws(() => withEnv('yes', () => loadFeatureEngine()), hasCode('INVALID_OPTION', /SCENESCOPE_NATIVE/));
    assert.throws(() => loadFeatureEngine({ prefer: 'typescript', requireNative: true }), hasCode('INVALID_OPTION', /prefer/));
    assert.throws(() => loadFeatureEngine({ prefr: 'native' } as never), hasCode('INVALID_OPTION', /did you mean "prefer"/));
    assert.equal(withEnv(undefined, () => loadFeatureEngine({ prefer: 'typescript' })).backend, 'typescript');
  });

  test('without a build, requireNative lists every candidate tried and the fix', { skip: root === null ? 'no package root' : false }, () => {
    // A copy of the compiled library in a package named "scenescope" with no build/ directory.
    const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-nobuild-'));
    try {
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scenescope', type: 'module' }));
      for (const file of ['errors.js', 'util/validate.js', 'features/engine.js', 'features/kernel.js', 'features/types.js']) {
        cpSync(path.join(dist, file), path.join(dir, 'dist', 'src', file));
      }
      const script = `
        import { loadFeatureEngine } from './dist/src/features/engine.js';
        const fallback = loadFeatureEngine().info();
        let thrown;
        try { loadFeatureEngine({ requireNative: true }); } catch (error) { thrown = { code: error.code, message: error.message }; }
        console.log(JSON.stringify({ fallback, thrown }));`;
      const env = { ...process.env };
      delete env['SCENESCOPE_NATIVE'];
      const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, encoding: 'utf8' })) as {
        fallback: { backend: string; native: { loaded: boolean; errors: string[] } };
        thrown?: { code: string; message: string };
      };
      assert.equal(out.fallback.backend, 'typescript');
      assert.equal(out.fallback.native.loaded, false);
      assert.equal(out.fallback.native.errors.length, 3);
      assert.match(out.fallback.native.errors[0]!, /build[\\/]Release[\\/]scenescope_native\.node: not found$/);
      assert.match(out.fallback.native.errors[1]!, /build[\\/]Debug[\\/]scenescope_native\.node: not found$/);
      assert.match(out.fallback.native.errors[2]!, new RegExp(`prebuilds[\\\\/]${process.platform}-${process.arch}[\\\\/]scenescope_native\\.node: not found$`));
      assert.equal(out.thrown?.code, 'NATIVE_UNAVAILABLE');
      assert.match(out.thrown.message, /Release[\\/]scenescope_native\.node: not found; .*Debug[\\/]scenescope_native\.node: not found; .*prebuilds.*: not found\); run npm run build:native in the scenescope folder \(g\+\+ and make needed\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('FeaturePool returns what the kernel computes and takes the input buffer by transfer', async () => {
    const pool = new FeaturePool({ threads: 1 });
    try {
      const [w, h, count] = [64, 36, 6];
      const frames = randomBytes((count + 1) * w * h * 3, 99);
      const expected = run(computeFeaturesTS, frames, w, h, count, true);
      const buffer = frames.slice().buffer;
      const batch = await pool.compute(buffer, w, h, count, true);
      assert.equal(buffer.byteLength, 0, 'the input ArrayBuffer is detached: it was transferred, not copied');
      assert.deepStrictEqual(batch, expected);
      assert.equal(pool.info().threads, 1);
      assert.equal(pool.info().backend, NATIVE_OFF ? 'typescript' : 'native');
    } finally {
      await pool.close();
    }
  });

  test('FeaturePool checks its arguments before transferring anything, and honours an aborted signal', async () => {
    const pool = new FeaturePool({ threads: 1, backend: 'typescript' });
    try {
      const buffer = new ArrayBuffer(100);
      await assert.rejects(pool.compute(buffer, 8, 8, 1, false), hasCode('INVALID_OPTION', /Expected an ArrayBuffer of 192 bytes .* but received 100 bytes/));
      await assert.rejects(pool.compute(buffer, 7, 8, 1, false), hasCode('INVALID_OPTION', /width/));
      assert.equal(buffer.byteLength, 100);
      const aborted = AbortSignal.abort();
      await assert.rejects(pool.compute(new ArrayBuffer(192), 8, 8, 1, false, aborted), hasCode('ABORTED'));
      assert.throws(() => new FeaturePool({ threads: 0 }), hasCode('INVALID_OPTION', /threads/));
      assert.throws(() => new FeaturePool({ backend: 'gpu' } as never), hasCode('INVALID_OPTION', /backend/));
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.compute(new ArrayBuffer(192), 8, 8, 1, false), hasCode('WORKER_FAILED', /closed/));
  });

  test('the worker answers failures as { ok: false, code, message } (errors lose their class across threads)', () => {
    const reply = computeTask({ buffer: new ArrayBuffer(10), width: 8, height: 8, count: 1, hasPrev: false, backend: 'typescript' });
    assert.deepEqual(reply, { ok: false, code: 'WORKER_FAILED', message: 'Feature worker failed: RangeError: frames must have length 192 but has 10' });
  });
});
