import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { planRealisticClip, realSegments, renderRealisticClip, DEFAULT_SCHEDULE, type RealSegment, type RealisticPlan } from '../src/bench/realistic.js';
import { readDataset, parseTruthJson } from '../src/bench/annotations.js';
import { listPhotos } from '../src/bench/corpus.js';
import { resolveFfmpegPaths } from '../src/media/ffmpeg.js';
import { ffmpeg, tempDir, SHARED } from './helpers/clips.js';

const REAL = path.join(SHARED, 'media', 'real');
const NO_REAL: string | false = existsSync(path.join(REAL, 'truth.json')) ? false : `${REAL}/truth.json is absent: real shots come from the shared folder`;

/** A fake segment list for planning only (the plan never opens the videos). */
const SEGMENTS: RealSegment[] = [
  { video: '/x/a.mp4', start: 10, end: 200 },
  { video: '/x/b.mp4', start: 0, end: 120 },
  { video: '/x/c.mp4', start: 31, end: 75 },
];

function overlaps(a: { start_frame: number; end_frame: number }, b: { start_frame: number; end_frame: number }, margin = 0): boolean {
  return a.end_frame + margin >= b.start_frame && b.end_frame + margin >= a.start_frame;
}

/** Decode a video to grey frames at its own size. */
async function greyFrames(file: string, W: number, H: number): Promise<Uint8Array[]> {
  const { ffmpeg: bin } = resolveFfmpegPaths();
  const { stdout } = await promisify(execFile)(bin, ['-v', 'error', '-i', file, '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const out: Uint8Array[] = [];
  for (let o = 0; o + W * H <= stdout.length; o += W * H) out.push(new Uint8Array(stdout.subarray(o, o + W * H)));
  return out;
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

suite('realistic corpus generator', () => {
  test('a plan is the same for the same seed and holds every hard class', () => {
    const a = planRealisticClip({ name: 'c', seed: 42, fps: 25, segments: SEGMENTS, photos: 3 });
    const b = planRealisticClip({ name: 'c', seed: 42, fps: 25, segments: SEGMENTS, photos: 3 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(planRealisticClip({ name: 'c', seed: 43, fps: 25, segments: SEGMENTS, photos: 3 }).transitions, a.transitions);
    const roles = new Set(a.transitions.map((t) => t.role ?? t.kind));
    for (const r of ['dissolve', 'wipe', 'fade', 'montage', 'cut-then-fade', 'flash-cut']) assert.ok(roles.has(r), `${r} in ${[...roles].join(',')}`);
    const montage = a.transitions.filter((t) => t.role === 'montage');
    const gaps = montage.slice(1).map((t, i) => t.frame - montage[i]!.frame);
    assert.ok(gaps.length >= 4 && gaps.every((g) => g >= 6 && g <= 12), `montage shots of 6-12 frames: ${gaps.join(',')}`);
    const cutFade = a.transitions.filter((t) => t.role === 'cut-then-fade');
    assert.equal(cutFade.length, 2);
    assert.ok(cutFade[1]!.start_frame - cutFade[0]!.frame <= 13, 'the fade starts within 0.5 s of the cut');
    assert.ok(a.transitions.filter((t) => t.kind === 'wipe').length >= 3 && new Set(a.transitions.map((t) => t.style)).size >= 5);
  });

  test('the truth is consistent: spans in order and inside the clip, distractors clear of transitions', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const p: RealisticPlan = planRealisticClip({ name: 'c', seed, fps: seed % 2 === 0 ? 25 : 30, segments: SEGMENTS, photos: seed % 3 });
      p.transitions.forEach((t, i) => {
        assert.ok(t.start_frame <= t.frame && t.frame <= t.end_frame && t.end_frame < p.frame_count, JSON.stringify(t));
        if (t.kind === 'cut') assert.equal(t.start_frame, t.end_frame);
        if (i > 0) assert.ok(t.start_frame > p.transitions[i - 1]!.end_frame, `transitions ${i - 1} and ${i} overlap (seed ${seed})`);
      });
      for (const d of p.distractors) {
        assert.ok(d.start_frame >= 0 && d.end_frame < p.frame_count);
        for (const t of p.transitions) assert.ok(!overlaps(d, t, 2), `seed ${seed}: ${JSON.stringify(d)} touches ${JSON.stringify(t)}`);
      }
      // Every gradual transition has a shot on each side that lives through it (both sides move).
      for (const t of p.transitions.filter((x) => x.kind === 'dissolve' || x.kind === 'wipe')) {
        const live = p.shots.filter((s) => s.first <= t.start_frame && s.last >= t.end_frame);
        assert.equal(live.length, 2, `seed ${seed}: both shots play through ${t.kind} ${t.start_frame}-${t.end_frame}`);
        for (const s of live) assert.notDeepEqual(s.from, s.to, 'the camera moves');
      }
    }
  });

  test('real shots lie between two certain hard cuts, or inside a negative clip, never across a transition', { skip: NO_REAL }, async () => {
    const segments = await realSegments(REAL);
    assert.ok(segments.length >= 20, `${segments.length} segments`);
    const truth = parseTruthJson(JSON.parse(await readFile(path.join(REAL, 'truth.json'), 'utf8'))).value;
    for (const g of segments) {
      const clip = truth.clips.find((c) => path.join(REAL, c.file) === g.video)!;
      for (const t of clip.transitions) assert.ok(!overlaps({ start_frame: g.start, end_frame: g.end }, t), `${path.basename(g.video)} ${g.start}-${g.end} crosses ${t.kind} ${t.start_frame}`);
      for (const d of clip.distractors.filter((x) => x.uncertain === true)) assert.ok(!overlaps({ start_frame: g.start, end_frame: g.end }, d), 'uncertain spans are left out');
    }
  });

  test('renders a short clip whose frames agree with its truth', async () => {
    const dir = tempDir('scenescope-realistic-');
    const photoDir = path.join(dir, 'photos');
    mkdirSync(photoDir, { recursive: true });
    await ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=640x360', '-frames:v', '1', path.join(photoDir, 'a.png')]);
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360', '-frames:v', '1', path.join(photoDir, 'b.png')]);
    const photos = await listPhotos(photoDir);
    const segments = NO_REAL === false ? (await realSegments(REAL)).filter((g) => /skv_bikes|sintel/.test(g.video)) : [];
    const W = 192;
    const H = 108;
    const plan = planRealisticClip({ name: 'mini', seed: 5, fps: 25, schedule: ['dissolve', 'flash', 'wipe', 'cut'], shotSeconds: [0.9, 1.1], segments, photos: photos.length });
    await renderRealisticClip(plan, { out: dir, width: W, height: H, segments, photos });
    const [entry] = await readDataset(dir, 'scenescope');
    assert.equal(entry!.schema, 'scenescope-corpus/2', 'bench picks the issue8-corpus targets by this schema');
    assert.deepEqual(entry!.truth.map((t) => [t.kind, t.start_frame, t.end_frame]), plan.transitions.map((t) => [t.kind, t.start_frame, t.end_frame]));
    const frames = await greyFrames(path.join(dir, 'mini.mp4'), W, H);
    assert.equal(frames.length, plan.frame_count);
    const diffs = frames.slice(1).map((f, i) => meanAbsDiff(frames[i]!, f));
    const median = [...diffs].sort((a, b) => a - b)[Math.floor(diffs.length / 2)]!;
    const cut = plan.transitions.find((t) => t.kind === 'cut')!;
    assert.ok(diffs[cut.frame - 1]! > 3 * median, `cut at ${cut.frame}: ${diffs[cut.frame - 1]} vs median ${median}`);
    // The white flash holds pure white frames (the logo and ticker aside): the centre is white.
    const flash = plan.transitions.find((t) => t.style === 'white')!;
    const held = frames[flash.start_frame + flash.out_frames!]!;
    let centre = 0;
    for (let y = H / 4; y < H / 2; y++) for (let x = W / 4; x < (3 * W) / 4; x++) centre += held[y * W + x]!;
    assert.ok(centre / ((H / 4) * (W / 2)) > 235, 'held flash frame is white');
    // No frame inside a dissolve equals a frame outside it: it is a real blend.
    const dissolve = plan.transitions.find((t) => t.kind === 'dissolve')!;
    const mid = frames[dissolve.frame]!;
    assert.ok(meanAbsDiff(mid, frames[dissolve.start_frame - 1]!) > 2 && meanAbsDiff(mid, frames[dissolve.end_frame + 1]!) > 2);
  });

  test('the default schedule has each class the issue lists', () => {
    assert.deepEqual([...new Set(DEFAULT_SCHEDULE)].sort(), ['cut', 'cut-fade', 'dissolve', 'fade', 'flash', 'montage', 'wipe']);
  });
});
