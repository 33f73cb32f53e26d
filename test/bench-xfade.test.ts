import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FamilyDeck, planXfadeClip, Rng, XFADE_FAMILIES, type RealShotSource } from '../benchmarks/xfade/plan.js';
import { checkXfadeFfmpeg, DEFAULT_XFADE_FFMPEG, generateXfadeCorpus } from '../benchmarks/xfade/render.js';
import { readDataset } from '../src/bench/annotations.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { tempDir } from './helpers/clips.js';

const run = promisify(execFile);
const XFADE_FFMPEG = process.env.SCENESCOPE_XFADE_FFMPEG ?? DEFAULT_XFADE_FFMPEG;
const NO_XFADE: string | false = await checkXfadeFfmpeg(XFADE_FFMPEG).then(
  () => false as const,
  (e: unknown) => `no ffmpeg with xfade at ${XFADE_FFMPEG} (apt-get install ffmpeg): ${e instanceof Error ? e.message : String(e)}`,
);

const REALS: RealShotSource[] = [
  { file: '/x/a.mp4', start: 10, end: 300, non_transitions: [{ start: 100, end: 120, what: 'text fades' }] },
  { file: '/x/b.mp4', start: 0, end: 150, non_transitions: [] },
];

function plan(seed: number, role: 'transitions' | 'distractors' = 'transitions') {
  const rng = new Rng(seed);
  return planXfadeClip({ name: 'c', fps: 25, role, rng, deck: new FamilyDeck(rng), photos: 3, reals: REALS });
}

suite('xfade corpus generator', () => {
  test('a plan is deterministic, its kinds follow the family mapping and its spans are consistent', () => {
    assert.deepEqual(plan(7), plan(7));
    assert.notDeepEqual(plan(8).transitions, plan(7).transitions);
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = plan(seed);
      assert.ok(p.transitions.length >= 10, `${p.transitions.length} transitions`);
      let last = -1;
      for (const t of p.transitions) {
        if (t.family === 'cut') assert.ok(t.kind === 'cut' && t.start_frame === t.end_frame && t.frame === t.start_frame);
        else {
          assert.equal(t.kind, XFADE_FAMILIES[t.family], t.family);
          // xfade's frame k is still pure A and k+m pure B: the mixed frames are k+1 .. k+m-1.
          assert.equal(t.start_frame, t.offset_frame + 1);
          assert.equal(t.end_frame, t.offset_frame + t.xfade_frames - 1);
          assert.ok(t.frame >= t.start_frame && t.frame <= t.end_frame);
          const seconds = (t.end_frame - t.start_frame + 1) / p.fps;
          assert.ok(seconds >= 0.28 && seconds <= 1.52, `${t.family} lasts ${seconds} s`);
        }
        assert.ok(t.start_frame > last, 'transitions in order, not overlapping');
        last = t.end_frame;
      }
      assert.ok(last < p.frame_count);
      const montage = p.transitions.filter((t) => t.role === 'montage');
      const gaps = montage.slice(1).map((t, i) => t.frame - montage[i]!.frame);
      assert.ok(gaps.length >= 3 && gaps.every((g) => g >= 6 && g <= 12), `montage shots of 6-12 frames: ${gaps.join(',')}`);
      for (const d of p.distractors) {
        assert.ok(d.start_frame >= 0 && d.end_frame < p.frame_count && d.start_frame <= d.end_frame);
        for (const t of p.transitions) assert.ok(d.end_frame < t.start_frame - 2 || d.start_frame > t.end_frame + 2, `${d.kind} ${d.start_frame}-${d.end_frame} clear of ${t.family} ${t.start_frame}-${t.end_frame}`);
      }
      // A shot's stream covers exactly its place on the timeline.
      for (const t of p.transitions) {
        const s = p.shots[t.shot]!;
        assert.equal(s.first, t.family === 'cut' ? t.frame : t.offset_frame);
      }
      const end = p.shots[p.shots.length - 1]!;
      assert.equal(end.first + end.frames, p.frame_count);
    }
    const d = plan(3, 'distractors');
    assert.equal(d.transitions.length, 0);
    assert.equal(d.distractors.at(-1)?.kind, 'negative');
    assert.ok(d.distractors.length >= 3);
  });

  test('a rendered clip has the planned frames, pure frames just outside every span and a change across it', { skip: NO_XFADE }, async () => {
    const dir = tempDir('scenescope-xfade-');
    // Two smooth "photos" far apart in brightness: camera motion changes little, a transition a lot.
    const photos = [path.join(dir, 'dark.png'), path.join(dir, 'bright.png')];
    await run(XFADE_FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x506070:s=320x180', '-vf', 'drawbox=x=40:y=40:w=120:h=60:color=0x607890:t=fill', '-frames:v', '1', photos[0]!]);
    await run(XFADE_FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0xc8b088:s=320x180', '-vf', 'drawbox=x=150:y=80:w=120:h=60:color=0xb09870:t=fill', '-frames:v', '1', photos[1]!]);
    const out = path.join(dir, 'corpus');
    const manifest = await generateXfadeCorpus({ out, seed: 5, clips: 1, ffmpeg: XFADE_FFMPEG, photos, real: '', width: 160, height: 90, role: 'transitions', schedule: { gradual: 1, cuts: 1, montages: 0, distractors: 0 } });
    assert.equal(manifest.clips.length, 1);
    const truth = JSON.parse(await readFile(path.join(out, 'xf01.json'), 'utf8')) as { frame_count: number; transitions: { kind: string; family: string; start_frame: number; end_frame: number; frame: number }[] };
    assert.equal(truth.transitions.length, 2);
    // The benchmark reads it as a scenescope-format corpus.
    const dataset = await readDataset(out, 'auto');
    assert.equal(dataset.length, 1);
    assert.equal(dataset[0]!.frame_count, truth.frame_count);
    assert.deepEqual(dataset[0]!.truth.map((t) => t.kind), truth.transitions.map((t) => t.kind));
    // Decode with the product's own (bundled) ffmpeg: the frame count is the truth's.
    const { ffmpeg } = resolveFfmpegPaths();
    const { stdout } = await run(ffmpeg, ['-v', 'error', '-i', path.join(out, 'xf01.mp4'), '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 26 });
    const n = 160 * 90;
    assert.equal(stdout.length / n, truth.frame_count);
    const frame = (i: number): Buffer => stdout.subarray(i * n, (i + 1) * n);
    const mad = (a: number, b: number): number => {
      const x = frame(a);
      const y = frame(b);
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(x[i]! - y[i]!);
      return s / n;
    };
    for (const t of truth.transitions) {
      assert.ok(t.start_frame >= 2 && t.end_frame + 2 < truth.frame_count, 'span inside the clip with room around it');
      const across = mad(t.start_frame - 1, t.end_frame + 1);
      assert.ok(across > 40, `${t.family}: the shots differ across the span (${across.toFixed(1)})`);
      assert.ok(mad(t.start_frame - 2, t.start_frame - 1) < across / 8, `${t.family}: frame ${t.start_frame - 1} is still the old shot`);
      assert.ok(mad(t.end_frame + 1, t.end_frame + 2) < across / 8, `${t.family}: frame ${t.end_frame + 1} is already the new shot`);
      if (t.kind !== 'cut') {
        // Inside the span the picture is neither shot.
        const mid = Math.floor((t.start_frame + t.end_frame) / 2);
        assert.ok(mad(mid, t.start_frame - 1) > across / 8 && mad(mid, t.end_frame + 1) > across / 8, `${t.family}: frame ${mid} mixes both (${mad(mid, t.start_frame - 1).toFixed(1)}, ${mad(mid, t.end_frame + 1).toFixed(1)}, across ${across.toFixed(1)})`);
      }
    }
  });
});
