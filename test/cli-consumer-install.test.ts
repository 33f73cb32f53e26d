/**
 * The package as a dependency: `npm pack` this repository, install the tarball into a new project with the
 * network unplugged (`unshare -n`, `npm install --offline`, the npm cache primed by the repository's own
 * install), compile a typed consumer under `tsc --strict`, and run detectScenes, analyzeFile and openLibrary
 * from it. Slow (it compiles better-sqlite3 from source: 3 minutes on a quiet 2-core machine, 15 under load), so `npm test` skips it and `npm run test:consumer`
 * runs it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite, test } from 'node:test';
import { makeClip, ROOT, tempDir } from './helpers/clips.js';

const ENABLED = process.env['SCENESCOPE_TEST_CONSUMER'] === '1';
const canUnshare = ENABLED && spawnSync('unshare', ['-n', 'true']).status === 0;
const SKIP: string | false = !ENABLED
  ? 'slow (packs the tarball and installs it, compiling better-sqlite3: minutes): run npm run test:consumer'
  : !canUnshare
    ? 'needs root and util-linux unshare to run npm with the network unplugged (unshare -n)'
    : false;

const CONSUMER_TS = `
import { mkdirSync } from 'node:fs';
import { analyzeFile, detectScenes, loadFeatureEngine, openLibrary, type DetectResult, type AnalysisResult } from 'scenescope';

const clip = process.argv[2]!;
const dir = process.argv[3]!;
const detected: DetectResult = await detectScenes(clip, { minSceneLen: 0.5 });
// An empty models folder: analysis without models (a folder that does not exist is MODELS_DIR_NOT_FOUND).
mkdirSync(dir + '/no-models', { recursive: true });
const analyzed: AnalysisResult = await analyzeFile(clip, { ocr: false, caption: false, thumbnailsDir: dir + '/thumbs', modelsDir: dir + '/no-models' });
const library = await openLibrary({ path: dir + '/library.db' });
const integrity: string[] = await library.integrityCheck();
await library.close();
console.log(JSON.stringify({
  boundaries: detected.boundaries.map((b) => b.frame),
  analyzedScenes: analyzed.scenes.length,
  thumbnail: analyzed.scenes[0]?.thumbnail_url ?? null,
  models: analyzed.models.map((m) => m.status),
  integrity,
  engine: loadFeatureEngine().info(),
}));
`;

suite('consumer install: the packed tarball in a new project, offline', () => {
  test('installs with no network, compiles under tsc --strict, and detects, analyzes and opens a library', { skip: SKIP, timeout: 2_400_000 }, async () => {
    const work = tempDir('scenescope-consumer-');
    // The tarball: pack what `npm test` just compiled (dist/), plus the prebuilt addon for this platform.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'prebuild.js')], { cwd: ROOT, stdio: 'pipe' });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(work, packed[0]!.filename);
    const files = packed[0]!.files.map((f) => f.path);
    for (const needed of ['LICENSE', 'docs/errors.md', 'dist/src/index.d.ts', `prebuilds/${process.platform}-${process.arch}/scenescope_native.node`, 'bin/scenescope.js']) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/')), 'no tests in the tarball');
    // A binding.gyp at the package root makes npm run `node-gyp rebuild` on install; the prebuild replaces it.
    assert.ok(!files.includes('binding.gyp'), 'no binding.gyp, so npm compiles nothing of ours');

    const project = path.join(work, 'app');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
    // What an air-gapped user runs: the tarball and its dependencies from the primed cache, with no network at all.
    const install = spawnSync('unshare', ['-n', 'npm', 'install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
    assert.doesNotMatch(install.stderr, /Unknown (project|user) config/);
    const modules = path.join(project, 'node_modules');
    assert.ok(!existsSync(path.join(modules, 'onnxruntime-node')), 'onnxruntime-node (an optional peer) is not installed, so its postinstall fetched nothing');
    assert.ok(!existsSync(path.join(modules, 'scenescope', 'build')), 'our addon was not compiled in the consumer');

    writeFileSync(path.join(project, 'index.ts'), CONSUMER_TS);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')], skipLibCheck: false, outDir: 'out' }, files: ['index.ts'] }),
    );
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    assert.equal(tsc.status, 0, `tsc --strict failed in the consumer:\n${tsc.stdout}${tsc.stderr}`);

    const clip = path.join(work, 'clip.mp4');
    const cuts = await makeClip(clip, [{ kind: 0, seconds: 2 }, { kind: 1, seconds: 2 }, { kind: 3, seconds: 2 }]);
    const env = { ...process.env };
    delete env['SCENESCOPE_NATIVE'];
    const run = spawnSync('unshare', ['-n', process.execPath, path.join('out', 'index.js'), clip, work], { cwd: project, encoding: 'utf8', env });
    assert.equal(run.status, 0, `consumer failed:\n${run.stdout}\n${run.stderr}`);
    const out = JSON.parse(run.stdout) as { boundaries: number[]; analyzedScenes: number; thumbnail: string | null; models: string[]; integrity: string[]; engine: { backend: string; native: { path?: string } } };
    assert.deepEqual(out.boundaries, cuts);
    assert.equal(out.analyzedScenes, cuts.length + 1);
    assert.ok(out.thumbnail !== null && readdirSync(path.join(work, 'thumbs')).length > 0, 'thumbnails were written by sharp');
    assert.equal(out.engine.backend, 'native');
    assert.match(out.engine.native.path ?? '', /node_modules[\\/]scenescope[\\/]prebuilds[\\/]/);
    assert.ok(Array.isArray(out.integrity));

    // The CLI from the consumer's node_modules/.bin works too.
    const cli = spawnSync('unshare', ['-n', path.join(modules, '.bin', 'scenescope'), 'detect', clip, '--format', 'csv', '--no-progress'], { cwd: project, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^scene,start_frame,end_frame,/);
    const size = execFileSync('du', ['-sm', modules], { encoding: 'utf8' }).split('\t')[0];
    console.log(`# consumer node_modules: ${size} MB; tarball ${(readFileSync(tarball).length / 1048576).toFixed(1)} MB`);
  });
});
