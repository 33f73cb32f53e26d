/**
 * The CLI as users run it (spawning `node bin/scenescope.js`): help per command, "did you mean", one error
 * format and its exit codes, durations in frames or timecodes, time ranges, several detectors in one decode,
 * split, images, scene lists loaded back, info, and output that never leaves half-written files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, suite, test } from 'node:test';
import { DETECTOR_NAMES } from '../src/detect/index.js';
import { parseDuration } from '../src/cli/duration.js';
import { ffmpeg, makeClip, ROOT, tempDir } from './helpers/clips.js';

const BIN = path.join(ROOT, 'bin', 'scenescope.js');
const dir = tempDir('scenescope-cli-');
const clip = path.join(dir, 'three shots.mp4');
let cuts: number[] = [];

function cli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, ...options.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


suite('CLI: help, errors and exit codes', () => {
  before(async () => {
    cuts = await makeClip(clip, [{ kind: 0, seconds: 1.2 }, { kind: 1, seconds: 1 }, { kind: 3, seconds: 1 }]);
  });

  test('each command answers --help and -h with every option it accepts, exit 0', () => {
    for (const [command, options] of [
      ['detect', ['--detector', '--threshold', '--min-scene-len', '--no-flash-suppression', '--start', '--end', '--duration', '--format', '--output', '--stats', '--backend', '--no-progress', '--debug']],
      ['analyze', ['--thumbnails', '--thumbnail-format', '--models', '--no-ocr', '--ocr-lang', '--no-caption', '--start', '--end']],
      ['split', ['--scenes', '--output-dir', '--filename', '--reencode', '--crf']],
      ['images', ['--scenes', '--num-images', '--width', '--height', '--image-format', '--quality']],
      ['info', ['--json']],
    ] as const) {
      for (const flag of ['--help', '-h']) {
        const r = cli([command, flag]);
        assert.equal(r.code, 0, `${command} ${flag}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^Usage: scenescope ${command}`));
        for (const o of options) assert.ok(r.stdout.includes(o), `${command} --help lists ${o}`);
        assert.doesNotMatch(r.stdout, /To specify a positional argument/);
      }
    }
    assert.match(cli(['detect', '--help']).stdout, /a bare number is seconds/);
    assert.match(cli(['help', 'split']).stdout, /^Usage: scenescope split/);
  });

  test('"did you mean" for commands, options and detector names; usage errors exit 2 in the one format', () => {
    const cases: [string[], RegExp][] = [
      [['detct', clip], /unknown command "detct"; did you mean "detect"\?/],
      [['split-video', clip], /did you mean "split"\?/],
      [['detect', clip, '--detecter', 'content'], /unknown option --detecter for detect; did you mean "--detector"\?/],
      [['detect', clip, '--detector', 'contnet'], /unknown detector "contnet" .*did you mean "content"\?/],
      [['detect', clip, '--format', 'jsn'], /did you mean "json"\?/],
      [['detect', clip, '--min-scene-len', '-1'], /--min-scene-len cannot be negative, got "-1"/],
      [['detect', clip, '--min-scene-len', 'soon'], /--min-scene-len is not a duration/],
      [['detect'], /detect needs a video file/],
      [['images', clip, '--image-format', 'gif'], /--image-format must be jpeg, png or webp/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^scenescope: error \[USAGE\]: /);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\nRun "scenescope (\w+ --help|help)" for usage\.\n$/);
      assert.equal(r.stdout, '');
    }
    for (const sub of [['models', 'frobnicate'], ['bench']]) {
      const r = cli(sub);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^scenescope: error \[USAGE\]: /, `${sub.join(' ')} uses the shared format`);
    }
  });

  test('a failure exits 1 with one error line; --debug adds the stack', () => {
    const r = cli(['detect', path.join(dir, 'missing.mp4')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^scenescope: error \[FILE_NOT_FOUND\]: File not found: .*missing\.mp4\n$/);
    assert.match(cli(['detect', path.join(dir, 'missing.mp4'), '--debug']).stderr, /\n\s+at /);
  });

  test('Ctrl-C exits 130 with one line', { skip: process.platform !== 'linux' ? 'waits for the ffmpeg child through /proc (Linux)' : false }, async () => {
    const long = path.join(dir, 'long.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=60', '-c:v', 'libx264', '-preset', 'ultrafast', long]);
    const child = spawn(process.execPath, [BIN, 'detect', long, '--no-progress'], { env: { ...process.env, SCENESCOPE_NATIVE: '0' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    // Interrupt once decoding runs (ffmpeg is a child), so the handler is surely installed.
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      const children = readdirSync(`/proc/${child.pid}/task`).flatMap((t) => readFileSync(`/proc/${child.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
      if (children.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    assert.equal(await closed, 130);
    assert.equal(stderr, 'scenescope: error [ABORTED]: interrupted\n');
  });
});

suite('CLI: durations, ranges and detectors', () => {
  test('durations: frames, seconds, milliseconds and timecodes; a bare number is seconds', () => {
    assert.deepEqual(parseDuration('x', '15f'), { frames: 15 });
    assert.deepEqual(parseDuration('x', '15 frames'), { frames: 15 });
    assert.deepEqual(parseDuration('x', '0.6s'), { seconds: 0.6 });
    assert.deepEqual(parseDuration('x', '600ms'), { seconds: 0.6 });
    assert.deepEqual(parseDuration('x', '00:00:00.600'), { seconds: 0.6 });
    assert.deepEqual(parseDuration('x', '1:05.5'), { seconds: 65.5 });
    assert.deepEqual(parseDuration('x', '2'), { seconds: 2 });
    assert.throws(() => parseDuration('x', '00:61:00'), /60 or more/);
  });

  test('--min-scene-len in frames means frames: 26f merges the 25-frame second shot, 25f keeps it', () => {
    const frames = (args: string[]): number[] => (JSON.parse(cli(['detect', clip, ...args]).stdout) as { boundaries: { frame: number }[] }).boundaries.map((b) => b.frame);
    assert.deepEqual(frames(['--min-scene-len', '25f']), cuts);
    assert.deepEqual(frames(['--min-scene-len', '26 frames']), [cuts[0]]);
    assert.deepEqual(frames(['--min-scene-len', '1.1']), [cuts[0]]);
    assert.deepEqual(frames(['--min-scene-len', '00:00:00.900']), cuts);
  });

  test('--start/--end decode only the range and keep the video\'s own frame numbers and times', () => {
    const r = cli(['detect', clip, '--start', '10f', '--end', '3s']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { frame_count: number; boundaries: { frame: number; time: number }[]; scenes: { start_frame: number; end_frame: number; start_time: number }[] };
    assert.equal(doc.frame_count, 75 - 10);
    assert.deepEqual(doc.boundaries.map((b) => b.frame), cuts.filter((c) => c > 10 && c < 75));
    assert.equal(doc.boundaries[0]!.time, cuts[0]! / 25);
    assert.equal(doc.scenes[0]!.start_frame, 10);
    assert.equal(doc.scenes[0]!.start_time, 0.4);
    assert.equal(doc.scenes.at(-1)!.end_frame, 75);
    const duration = JSON.parse(cli(['detect', clip, '--start', '1', '--duration', '1s']).stdout) as { frame_count: number };
    assert.equal(duration.frame_count, 25);
    assert.equal(cli(['detect', clip, '--start', '2', '--end', '1']).code, 2);
  });

  test('--detector a,b runs several detectors on one decode', () => {
    const r = cli(['detect', clip, '--detector', 'scenescope,content,hash']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { frame_count: number; detectors: { detector: string; boundaries: { frame: number }[] }[] };
    assert.equal(doc.frame_count, 80);
    assert.deepEqual(doc.detectors.map((d) => d.detector), ['scenescope', 'content', 'hash']);
    for (const d of doc.detectors) assert.deepEqual(d.boundaries.map((b) => b.frame), cuts, d.detector);
    assert.ok(DETECTOR_NAMES.includes('hash'));
  });
});

suite('CLI: split, images, scene lists', () => {
  test('split: stream copy by default, --reencode frame-exact, names from the template', () => {
    const out = path.join(dir, 'split');
    const r = cli(['split', clip, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['three shots-Scene-001.mp4', 'three shots-Scene-002.mp4', 'three shots-Scene-003.mp4']);
    const re = path.join(dir, 'reencoded');
    assert.equal(cli(['split', clip, '-o', re, '--reencode', '--filename', 'shot-$SCENE_NUMBER-$START_FRAME']).code, 0);
    assert.deepEqual(readdirSync(re).sort(), ['shot-001-0.mp4', `shot-002-${cuts[0]}.mp4`, `shot-003-${cuts[1]}.mp4`]);
    const counts = readdirSync(re).sort().map((f) => {
      const p = spawnSync(process.execPath, [BIN, 'detect', path.join(re, f), '--format', 'csv'], { encoding: 'utf8' });
      return Number(p.stdout.trim().split('\n').at(-1)!.split(',')[2]);
    });
    assert.deepEqual(counts, [cuts[0], cuts[1]! - cuts[0]!, 80 - cuts[1]!]);
  });

  test('images: N per scene at a chosen size and format, from a scene list loaded back (JSON or CSV)', () => {
    const json = path.join(dir, 'scenes.json');
    assert.equal(cli(['detect', clip, '-o', json]).code, 0);
    const csv = path.join(dir, 'scenes.csv');
    assert.equal(cli(['detect', clip, '--format', 'csv', '-o', csv]).code, 0);
    for (const [list, format, ext, magic] of [[json, 'webp', '.webp', 'RIFF'], [csv, 'png', '.png', '\u0089PNG']] as const) {
      const out = path.join(dir, `images-${format}`);
      const r = cli(['images', clip, '--scenes', list, '-n', '2', '--width', '96', '--image-format', format, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      const files = readdirSync(out).sort();
      assert.equal(files.length, 2 * (cuts.length + 1));
      assert.equal(files[0], `three shots-Scene-001-01${ext}`);
      assert.equal(readFileSync(path.join(out, files[0]!), 'latin1').slice(0, 4), magic);
    }
    assert.match(cli(['images', clip, '--scenes', path.join(dir, 'nothing.json')]).stderr, /^scenescope: error \[FILE_NOT_FOUND\]/);
  });
});

suite('CLI: info and safe output', () => {
  test('info shows ffmpeg and ffprobe versions and paths, the folders and every model\'s state', () => {
    const r = cli(['info', '--json'], { env: { XDG_DATA_HOME: '/tmp/xdg-cli', SCENESCOPE_MODELS_DIR: '', SCENESCOPE_LIBRARY: '', SCENESCOPE_DATA_DIR: '' } });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { ffmpeg: { path: string; version: string }; ffprobe: { path: string; version: string }; modelsDir: string; libraryPath: string; models: { id: string; state: string }[] };
    assert.ok(existsSync(info.ffmpeg.path) && info.ffmpeg.version.length > 0);
    assert.ok(existsSync(info.ffprobe.path) && info.ffprobe.version.length > 0);
    assert.equal(info.modelsDir, '/tmp/xdg-cli/scenescope/models');
    assert.equal(info.libraryPath, '/tmp/xdg-cli/scenescope/library.db');
    assert.ok(info.models.length > 0 && info.models.every((m) => m.state === 'missing'));
    assert.match(cli(['info']).stdout, /^scenescope .*\nfeatures: .*\nffmpeg: /);
  });

  test('--output never truncates an existing file when the run fails; --stats is a plain CSV with a sidecar', () => {
    const kept = path.join(dir, 'kept.json');
    writeFileSync(kept, 'previous result\n');
    assert.equal(cli(['detect', path.join(dir, 'missing.mp4'), '-o', kept]).code, 1);
    assert.equal(readFileSync(kept, 'utf8'), 'previous result\n');
    const stats = path.join(dir, 'stats.csv');
    assert.equal(cli(['detect', clip, '--stats', stats]).code, 0);
    assert.match(readFileSync(stats, 'utf8'), /^frame,time,/, 'no # comment line: any CSV reader takes it');
    assert.equal((JSON.parse(readFileSync(`${stats}.json`, 'utf8')) as { format: string }).format, 'scenescope-stats');
    const again = cli(['detect', clip, '--stats', stats, '--detector', 'content', '--format', 'csv']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.trim().split('\n').length, cuts.length + 2);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  test('a full disk on stdout (detect > /dev/full) gives the one error line, not an unhandled error event', { skip: existsSync('/dev/full') ? false : 'no /dev/full on this system' }, () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" detect "${clip}" > /dev/full`], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'scenescope: error [OUTPUT_FAILED]: Cannot write standard output: no space left on device (ENOSPC)\n');
  });
});
