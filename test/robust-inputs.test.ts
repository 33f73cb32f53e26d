/**
 * Issue 12, item 8: small input faults. Each must end as a ScenescopeError with its code, never a Node
 * TypeError, a usage error from deep inside, or a silent fallback.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, suite, test } from 'node:test';
import { analyzeFile } from '../src/api/analyze.js';
import { detectScenes } from '../src/api/detect.js';
import { ScenescopeError } from '../src/errors.js';
import { analysisSize } from '../src/media/decode.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { probe } from '../src/media/probe.js';
import { ffmpeg, makeClip, tempDir } from './helpers/clips.js';

const dir = tempDir('scenescope-inputs-');
const clip = path.join(dir, 'clip.mp4');

const isCode = (code: string, message?: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof ScenescopeError, `expected a ScenescopeError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message !== undefined) assert.match(error.message, message);
  return true;
};

suite('input validation at the public boundary', () => {
  before(async () => {
    await makeClip(clip, [{ kind: 0, seconds: 1 }, { kind: 1, seconds: 1 }]);
  });

  test('detectScenes(undefined | 42 | Buffer | http URL) is INVALID_OPTION, not a TypeError', async () => {
    for (const value of [undefined, 42, Buffer.from(clip), new URL('http://127.0.0.1/x.mp4'), null, {}]) {
      await assert.rejects(detectScenes(value as never), isCode('INVALID_OPTION', /for the video path/));
    }
    await assert.rejects(analyzeFile(42 as never), isCode('INVALID_OPTION'));
  });

  test('detectScenes("") is INVALID_OPTION, not NOT_A_FILE for the working folder', async () => {
    await assert.rejects(detectScenes(''), isCode('INVALID_OPTION', /^Expected a non-empty path for the video path but received an empty string$/));
  });

  test('a file: URL is accepted', async () => {
    const result = await detectScenes(pathToFileURL(clip));
    assert.equal(result.frame_count, 50);
    assert.equal(result.probe.path, clip);
  });

  test('a mistyped ffmpegPath / ffprobePath (option or environment) is FFMPEG_NOT_FOUND, not the bundled binary', async () => {
    const missing = path.join(dir, 'no-such-ffmpeg');
    assert.throws(() => resolveFfmpegPaths({ ffmpegPath: missing }), isCode('FFMPEG_NOT_FOUND', /no-such-ffmpeg \(from the ffmpegPath option\) does not exist/));
    assert.throws(() => resolveFfmpegPaths({ ffprobePath: dir }), isCode('FFMPEG_NOT_FOUND', /\(from the ffprobePath option\) is not a file/));
    await assert.rejects(detectScenes(clip, { ffprobePath: missing }), isCode('FFMPEG_NOT_FOUND'));
    const saved = process.env.SCENESCOPE_FFMPEG_PATH;
    process.env.SCENESCOPE_FFMPEG_PATH = missing;
    try {
      assert.throws(() => resolveFfmpegPaths(), isCode('FFMPEG_NOT_FOUND', /from SCENESCOPE_FFMPEG_PATH/));
      await assert.rejects(detectScenes(clip), isCode('FFMPEG_NOT_FOUND'));
    } finally {
      if (saved === undefined) delete process.env.SCENESCOPE_FFMPEG_PATH;
      else process.env.SCENESCOPE_FFMPEG_PATH = saved;
    }
    assert.ok(resolveFfmpegPaths().ffmpeg.length > 0, 'unset, the bundled binary is used');
  });

  test('aspect ratios past 810:1 get an analysis size the feature pool accepts (16x16384 and 16384x16)', async () => {
    const size = (w: number, h: number) => analysisSize({ stream: { display_width: w, display_height: h } } as never);
    for (const [w, h] of [[16, 16384], [16384, 16], [2, 16384], [1920, 1080]] as const) {
      const { width, height } = size(w, h);
      assert.ok(width >= 16 && height >= 16 && width <= 4096 && height <= 4096, `${w}x${h} -> ${width}x${height}`);
      assert.ok(width * height <= 1.1 * 20736, `${w}x${h} -> ${width}x${height} keeps the area`);
    }
    assert.deepEqual(size(1920, 1080), { width: 192, height: 108 }, 'ordinary sizes are unchanged');
    const tall = path.join(dir, 'tall.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=16x16384:rate=5:duration=0.6', '-c:v', 'ffv1', tall]);
    const result = await detectScenes(tall);
    assert.equal(result.frame_count, 3);
  });

  test('CineForm that will not decode is reported as an unsupported codec, not as damage', async () => {
    // An MP4 whose sample entry says CFHD (CineForm's fourcc) over H.264 data: the cfhd decoder gets nothing it can use.
    const bytes = (await import('node:fs')).readFileSync(clip);
    const at = bytes.lastIndexOf('avc1', bytes.indexOf('avcC'));
    assert.ok(at > 0);
    bytes.write('CFHD', at, 'latin1');
    const file = path.join(dir, 'cineform.mov');
    (await import('node:fs')).writeFileSync(file, bytes);
    const probed = await probe(file);
    assert.equal(probed.metadata.video_codec, 'cfhd');
    await assert.rejects(detectScenes(file), isCode('UNSUPPORTED_CODEC', /^cineform\.mov uses the cfhd codec \(CineForm\) in a form this ffmpeg cannot decode/));
    copyFileSync(clip, path.join(dir, 'unchanged.mp4'));
  });
});

suite('a per-call frame and time budget stops a decode bomb', () => {
  test('maxFrames and timeLimitMs end decoding with BUDGET_EXCEEDED; without them it completes', async () => {
    // A few KB that expand into many large frames: flat 4K colour, compressed to almost nothing.
    const bomb = path.join(dir, 'bomb.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:size=3840x2160:rate=25:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '51', bomb]);
    assert.ok((await import('node:fs')).statSync(bomb).size < 100_000);
    await assert.rejects(detectScenes(bomb, { maxFrames: 10 }), isCode('BUDGET_EXCEEDED', /^bomb\.mkv: more than the 10 frames of its budget \(maxFrames\)$/));
    await assert.rejects(detectScenes(bomb, { timeLimitMs: 50 }), isCode('BUDGET_EXCEEDED', /^bomb\.mkv: decoding took longer than the 50 ms budget \(timeLimitMs\)$/));
    await assert.rejects(detectScenes(bomb, { maxFrames: 0 }), isCode('INVALID_OPTION'));
    const whole = await detectScenes(bomb, { maxFrames: 50 });
    assert.equal(whole.frame_count, 50);
  });
});

suite('frame files of killed workers are swept', () => {
  test('stale scenescope-frames-<dead pid>-*.ppm files go; those of live processes and fresh ones stay', async () => {
    const fs = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    const { sweepStaleFrameFiles } = await import('../src/enrich/frames.js');
    const tmp = tempDir('scenescope-sweep-');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const old = new Date(Date.now() - 3_600_000);
    const make = (name: string, aged: boolean): string => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, 'P6\n');
      if (aged) fs.utimesSync(file, old, old);
      return file;
    };
    const stale = make(`scenescope-frames-${dead}-abcdef012345.ppm`, true);
    const fresh = make(`scenescope-frames-${dead}-0123456789ab.ppm`, false);
    const mine = make(`scenescope-frames-${process.pid}-aaaaaaaaaaaa.ppm`, true);
    const other = make('unrelated.ppm', true);
    assert.equal(await sweepStaleFrameFiles(tmp), 1);
    assert.equal(fs.existsSync(stale), false);
    for (const kept of [fresh, mine, other]) assert.ok(fs.existsSync(kept), kept);
  });
});

suite("getThumbnail reads only inside the library's assets folder", () => {
  test('a thumbnail path outside the assets folder, or a link out of it, is NOT_FOUND; one inside is read', async () => {
    const fs = await import('node:fs');
    const { VideoScenesApi } = await import('../src/library/scenes.js');
    const root = tempDir('scenescope-thumbs-');
    const assets = path.join(root, 'lib.assets');
    fs.mkdirSync(assets);
    const secret = path.join(root, 'secret.txt');
    fs.writeFileSync(secret, 'not a thumbnail');
    fs.writeFileSync(path.join(assets, 'ok.jpg'), 'jpeg bytes');
    fs.symlinkSync(secret, path.join(assets, 'link.jpg'));
    const paths: Record<string, string> = { inside: path.join(assets, 'ok.jpg'), outside: secret, link: path.join(assets, 'link.jpg'), dotdot: path.join(assets, '..', 'secret.txt') };
    const store = { getScene: async (id: string) => ({ thumbnail_path: paths[id]!, errors: [] }), readAsset: async () => null };
    const api = new VideoScenesApi({ store, assetsDir: assets, ffmpeg: {}, maxRetries: 0 } as never);
    assert.equal((await api.getThumbnail('inside')).toString(), 'jpeg bytes');
    for (const id of ['outside', 'link', 'dotdot']) {
      await assert.rejects(api.getThumbnail(id), isCode('NOT_FOUND', /outside the library's assets folder/));
    }
  });
});
