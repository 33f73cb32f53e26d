import { suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runBenchCommand, type BenchDetect } from '../src/cli/bench-command.js';
import { resolveFfmpegPaths, runTool } from '../src/media/ffmpeg.js';
import type { CliIO } from '../src/cli/io.js';

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } });
  const stderr = new Writable({ write(chunk, _e, cb) { err += String(chunk); cb(); } });
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

let dir = '';
const signal = new AbortController().signal;

/** A fake detector: boundaries at fixed frames, one score track with a peak at each. */
const fake = (frames: number[]): BenchDetect => async () => {
  const values = new Float64Array(50);
  for (const f of frames) values[f] = 30;
  return { frame_count: 50, frame_rate: 25, boundaries: frames.map((frame) => ({ frame, kind: 'cut', start_frame: frame, end_frame: frame, confidence: 0.9 })), scores: [{ name: 'content', values, threshold: 20 }] };
};

suite('scenescope bench', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scenescope-bench-'));
    const { ffmpeg } = resolveFfmpegPaths();
    // Two seconds of a test pattern, 25 fps, with a cut list beside it.
    const made = await runTool(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-t', '2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', path.join(dir, 'a.mp4')]);
    assert.equal(made.code, 0, made.stderr);
    await writeFile(path.join(dir, 'a.csv'), 'frame\n25\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('prints the metrics table: one true cut and one false one', async () => {
    const c = capture();
    const code = await runBenchCommand([dir, '--format', 'csv'], c.io, { detect: fake([25, 40]), signal });
    assert.equal(code, 0, c.err());
    assert.match(c.out(), /detector default: 1 clips, 1 transitions, 0 distractors/);
    assert.match(c.out(), /^1 +1 +1 +0 +0\.500 +1\.000 +0\.667/m);
  });

  test('--json prints one line per clip, per tolerance and the targets', async () => {
    const c = capture();
    const code = await runBenchCommand([dir, '--format', 'csv', '--json', '--tolerance', '0,2'], c.io, { detect: fake([26]), signal });
    assert.equal(code, 0, c.err());
    const lines = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    assert.deepEqual(lines.map((l) => l.type), ['clip', 'summary', 'summary', 'summary', 'targets']);
    assert.deepEqual(lines[0]!.tolerances, { 0: { tp: 0, fp: 1, fn: 1 }, 1: { tp: 1, fp: 0, fn: 0 }, 2: { tp: 1, fp: 0, fn: 0 } });
    assert.deepEqual(lines.slice(1, 4).map((l) => [l.tolerance, l.all.f1]), [[0, 0], [1, 1], [2, 1]]);
  });

  test('--html writes one self-contained file with the score plot, marks and thumbnails', async () => {
    const c = capture();
    const html = path.join(dir, 'report.html');
    const code = await runBenchCommand([dir, '--format', 'csv', '--html', html], c.io, { detect: fake([25, 40]), signal });
    assert.equal(code, 0, c.err());
    const text = await readFile(html, 'utf8');
    assert.match(text, /^<!DOCTYPE html>/);
    assert.match(text, /<svg [^>]*class="timeline"/);
    assert.match(text, /<polyline points="[^"]+"[^>]*><title>content \(threshold 20\)<\/title>/);
    assert.ok((text.match(/src="data:image\/jpeg;base64,/g) ?? []).length >= 4, 'thumbnails before and after each boundary');
    assert.match(text, /false @40<\/div><div class="who">default: cut \(0\.90\)/);
    assert.match(text, /cut @25<\/div><div class="who">✓ default: cut @25 \(0\.90\)/);
    assert.doesNotMatch(text, /<script|<link|src="http|href="http|url\(http/);
  });

  test('a clip that fails is reported and the exit code is 1', async () => {
    const c = capture();
    const code = await runBenchCommand([dir, '--format', 'csv', '--json'], c.io, { detect: async () => { throw new Error('decoder broke'); }, signal });
    assert.equal(code, 1);
    assert.match(c.err(), /a: default: decoder broke/);
    assert.equal((JSON.parse(c.out().trim().split('\n')[0]!) as { error: string }).error, 'decoder broke');
  });

  test('--check exits 1 when the targets are missed', async () => {
    const c = capture();
    assert.equal(await runBenchCommand([dir, '--format', 'csv', '--check'], c.io, { detect: fake([40]), signal }), 1);
  });

  test('bad usage exits 2 with one line on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [[dir, '--format', 'edl'], /unknown --format "edl"; use one of auto, scenescope, truth, bbc, rai, clipshots, autoshot, csv/],
      [[dir, '--bogus'], /Unknown option '--bogus'/],
      [[], /expected one dataset folder/],
      [[dir, '--tolerance', 'x'], /--tolerance takes integers/],
      [[path.join(dir, 'nope')], /Dataset folder .* does not exist/],
    ];
    for (const [argv, message] of cases) {
      const c = capture();
      assert.equal(await runBenchCommand(argv, c.io, { detect: fake([]), signal }), 2, argv.join(' '));
      assert.match(c.err(), message);
    }
  });
});
