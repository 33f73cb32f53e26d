import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { suite, test, before } from 'node:test';
import { promisify } from 'node:util';
import { main } from '../src/cli/main.js';
import { makeClip, ROOT, tempDir } from './helpers/clips.js';

const run = promisify(execFile);
const dir = tempDir();
const clip = path.join(dir, 'cli clip.mp4');
let cuts: number[] = [];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}

suite('scenescope CLI', () => {
  before(async () => {
    cuts = await makeClip(clip, [{ kind: 0, seconds: 1.2 }, { kind: 1, seconds: 1 }, { kind: 4, seconds: 1 }]);
  });

  test('npx scenescope detect runs from the repository root and prints exactly one JSON document', async () => {
    const { stdout, stderr } = await run('npx', ['--offline', 'scenescope', 'detect', clip, '--format', 'json'], { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: 'false' } });
    const doc = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc), ['schema_version', 'video', 'frame_count', 'frame_rate', 'boundaries', 'scenes']);
    assert.equal(doc['schema_version'], 1);
    assert.equal(doc['frame_count'], 80);
    assert.equal(doc['frame_rate'], 25);
    const boundaries = doc['boundaries'] as Record<string, unknown>[];
    assert.deepEqual(boundaries.map((b) => b['frame']), cuts);
    assert.deepEqual(Object.keys(boundaries[0]!), ['frame', 'time', 'kind', 'start_frame', 'end_frame', 'confidence']);
    const scenes = doc['scenes'] as Record<string, unknown>[];
    assert.deepEqual(Object.keys(scenes[0]!), ['scene_index', 'start_frame', 'end_frame', 'start_time', 'end_time', 'time_range_formatted']);
    assert.equal(scenes[0]!['time_range_formatted'], '00:00:00.000-00:00:01.200');
    assert.doesNotMatch(stderr, /[{}]/, 'no JSON and no progress bar on a non-terminal stderr');
  });

  test('options reach the detector: --min-scene-len in seconds, --detector, --threshold', async () => {
    const merged = await cli(['detect', clip, '--min-scene-len', '1.1']);
    assert.equal(merged.code, 0);
    assert.deepEqual((JSON.parse(merged.stdout) as { boundaries: { frame: number }[] }).boundaries.map((b) => b.frame), [cuts[0]]);
    const none = await cli(['detect', clip, '--detector', 'content', '--threshold', '999']);
    assert.equal(none.code, 0);
    assert.deepEqual((JSON.parse(none.stdout) as { boundaries: unknown[] }).boundaries, []);
  });

  test('--format csv prints one row per scene; --stats writes per-frame metrics', async () => {
    const stats = path.join(dir, 'stats.csv');
    const result = await cli(['detect', clip, '--format', 'csv', '--stats', stats]);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.trim().split('\n');
    assert.equal(rows.length, 1 + cuts.length + 1);
    assert.ok(existsSync(stats));
  });

  test('bad input: exit 1 and a one-line message with the code on stderr, no stack trace', async () => {
    const missing = await cli(['detect', path.join(dir, 'missing.mp4')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^scenescope: error \[FILE_NOT_FOUND\]: File not found: .*missing\.mp4\n$/);
    const text = path.join(dir, 'notes.mp4');
    writeFileSync(text, 'hello\n'.repeat(100));
    const bad = await cli(['detect', text]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^scenescope: error \[UNSUPPORTED_FORMAT\]: [^\n]*\n$/);
    const debug = await cli(['detect', text, '--debug']);
    assert.match(debug.stderr, /\n\s+at /, '--debug adds the stack');
  });

  test('usage errors exit 2', async () => {
    assert.equal((await cli(['detect'])).code, 2);
    assert.equal((await cli(['detect', clip, '--format', 'xml'])).code, 2);
    assert.equal((await cli(['detect', clip, '--threshold', 'abc'])).code, 2);
    assert.equal((await cli(['detect', clip, '--bogus'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
    const help = await cli(['help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /scenescope detect <video>/);
  });

  test('info reports the feature backend and why', async () => {
    const result = await cli(['info', '--json']);
    const info = JSON.parse(result.stdout) as { features: { backend: string; native: { loaded: boolean; errors: string[] } } };
    assert.ok(['native', 'typescript'].includes(info.features.backend));
    if (info.features.backend === 'typescript') assert.ok(info.features.native.errors.length > 0, 'a fallback says why');
  });
});
