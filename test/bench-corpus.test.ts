import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { planClip, ClipRenderer, renderClip, defaultPhotoDir, listPhotos, photoAspects, type ClipPlan } from '../src/bench/corpus.js';
import { Prng } from '../src/bench/prng.js';
import { runTool, resolveFfmpegPaths, fileUrl, safeInputArgs } from '../src/media/ffmpeg.js';
import { readDataset } from '../src/bench/annotations.js';

const FAKE_PHOTOS = Array.from({ length: 12 }, (_, i) => ({ path: `/photos/p${i}.jpg`, aspect: [1.6, 1.33, 1.25, 1.5][i % 4]! }));

function plans(count: number, seed = 1): ClipPlan[] {
  return Array.from({ length: count }, (_, i) => planClip({ name: `clip${i + 1}`, seed: seed * 1000 + i, fps: i % 2 === 0 ? 25 : 30, photos: FAKE_PHOTOS }));
}

const photoDir = defaultPhotoDir();
const noPhotos = photoDir === undefined ? 'no photographs: run scripts/get-photos.sh (Debian mate-backgrounds) or set SCENESCOPE_PHOTOS' : false;

suite('corpus generator', () => {
  test('the PRNG is seeded and reproducible', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const seqA = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(seqA, Array.from({ length: 5 }, () => b.next()));
    assert.notDeepEqual(seqA, Array.from({ length: 5 }, () => new Prng(43).next()));
    assert.ok(seqA.every((v) => v >= 0 && v < 1));
  });

  test('a plan depends only on its seed', () => {
    const a = planClip({ name: 'x', seed: 5, fps: 25, photos: FAKE_PHOTOS });
    assert.deepEqual(planClip({ name: 'x', seed: 5, fps: 25, photos: FAKE_PHOTOS }), a);
    assert.notDeepEqual(planClip({ name: 'x', seed: 6, fps: 25, photos: FAKE_PHOTOS }).transitions, a.transitions);
  });

  test('the default corpus plan has >= 90 transitions, >= 15 of each gradual kind, and every distractor', () => {
    const all = plans(12);
    const kinds = new Map<string, number>();
    const distractors = new Map<string, number>();
    for (const p of all) {
      for (const t of p.transitions) kinds.set(t.kind, (kinds.get(t.kind) ?? 0) + 1);
      for (const d of p.distractors) distractors.set(d.kind, (distractors.get(d.kind) ?? 0) + 1);
      const seconds = p.frame_count / p.fps;
      assert.ok(seconds >= 15 && seconds <= 35, `${p.name} lasts ${seconds} s`);
    }
    const total = [...kinds.values()].reduce((a, b) => a + b, 0);
    assert.ok(total >= 90, `${total} transitions`);
    for (const k of ['cut', 'dissolve', 'fade', 'wipe']) assert.ok((kinds.get(k) ?? 0) >= 15, `${k}: ${kinds.get(k)}`);
    for (const k of ['flash', 'exposure', 'caption', 'object', 'pan', 'shake', 'dark']) assert.ok((distractors.get(k) ?? 0) >= 10, `${k}: ${distractors.get(k)}`);
    const fades = all.flatMap((p) => p.transitions.filter((t) => t.kind === 'fade'));
    assert.ok(fades.some((t) => t.color === 'black') && fades.some((t) => t.color === 'white'));
    const directions = new Set(all.flatMap((p) => p.transitions.filter((t) => t.kind === 'wipe').map((t) => t.direction)));
    assert.ok(directions.size >= 4, `wipe directions ${[...directions].join(',')}`);
  });

  test('spans are ordered, frames lie inside them, gradual lengths are 0.3-1 s, distractors keep clear of transitions', () => {
    for (const p of plans(12)) {
      let previousEnd = -1;
      for (const t of p.transitions) {
        assert.ok(t.start_frame > previousEnd, `${p.name}: transitions overlap at ${t.start_frame}`);
        assert.ok(t.start_frame <= t.frame && t.frame <= t.end_frame);
        previousEnd = t.end_frame;
        const seconds = (t.end_frame - t.start_frame + 1) / p.fps;
        if (t.kind === 'dissolve' || t.kind === 'wipe') assert.ok(seconds >= 0.28 && seconds <= 1.04, `${t.kind} of ${seconds} s`);
        if (t.kind === 'fade') assert.equal(t.frame, t.start_frame + t.fade_out! + t.hold!);
      }
      assert.ok(previousEnd < p.frame_count);
      for (const d of p.distractors) {
        assert.ok(d.start_frame <= d.end_frame);
        const inside = p.transitions.filter((t) => t.end_frame >= d.start_frame - 8 && t.start_frame <= d.end_frame + 8);
        if (d.kind === 'dark') assert.ok(inside.length === 1 && inside[0]!.kind === 'cut', `${p.name}: a dark pair holds exactly one cut`);
        else assert.deepEqual(inside, [], `${p.name}: ${d.kind} at ${d.start_frame} is clear of transitions`);
      }
    }
  });

  test('a speed plan ends at exactly the requested frame count', () => {
    const p = planClip({ name: 'speed', seed: 7, fps: 30, photos: FAKE_PHOTOS, targetFrames: 3000 });
    assert.equal(p.frame_count, 3000);
    assert.ok(p.transitions.length >= 25);
    assert.ok(p.transitions.every((t) => t.end_frame < 3000) && p.distractors.every((d) => d.end_frame < 3000));
  });

  test('a rendered clip decodes to exactly the planned frames, with its truth file', { skip: noPhotos, timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'scenescope-corpus-'));
    try {
      const files = (await listPhotos(photoDir!)).slice(0, 6);
      const aspects = await photoAspects(files);
      const plan = planClip({ name: 'tiny', seed: 3, fps: 25, photos: files.map((p, i) => ({ path: p, aspect: aspects[i]! })) });
      const W = 192;
      const H = 108;
      const truth = await renderClip(plan, { width: W, height: H, out: dir });
      const { ffmpeg } = resolveFfmpegPaths();
      const decoded = await runTool(ffmpeg, ['-v', 'error', ...safeInputArgs(), '-i', fileUrl(path.join(dir, 'tiny.mp4')), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
      assert.equal(decoded.code, 0, decoded.stderr);
      const bytes = W * H * 3;
      assert.equal(decoded.stdout.length / bytes, plan.frame_count, 'no frame dropped or duplicated');
      // The encoded frames match the rendered ones (x264 at CRF 18), frame by frame: a shift by one frame
      // would show at every cut.
      const renderer = await ClipRenderer.create(plan, W, H);
      const hash = createHash('sha256');
      let worst = 0;
      for (let f = 0; f < plan.frame_count; f++) {
        const frame = renderer.render(f);
        hash.update(frame);
        const got = decoded.stdout.subarray(f * bytes, (f + 1) * bytes);
        let sum = 0;
        for (let i = 0; i < bytes; i++) sum += Math.abs(got[i]! - frame[i]!);
        worst = Math.max(worst, sum / bytes);
      }
      assert.ok(worst < 6, `worst mean difference ${worst.toFixed(2)}`);
      const again = await ClipRenderer.create(plan, W, H);
      const hash2 = createHash('sha256');
      for (let f = 0; f < plan.frame_count; f++) hash2.update(again.render(f));
      assert.equal(hash2.digest('hex'), hash.digest('hex'), 'rendering is reproducible');
      const written = JSON.parse(await readFile(path.join(dir, 'tiny.json'), 'utf8')) as typeof truth;
      assert.deepEqual(written.transitions, truth.transitions);
      const [entry] = await readDataset(dir, 'scenescope');
      assert.equal(entry!.truth.length, plan.transitions.length);
      assert.equal(entry!.distractors.length, plan.distractors.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
