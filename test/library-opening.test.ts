/**
 * Library opening rules (issue 12, item 3): read-only commands never create a library, a mistyped
 * `--library` is an error with a code, a URL is never a relative file path, and a library file deleted or
 * replaced under a running worker stops the worker with LIBRARY_GONE instead of "completing" jobs into the
 * unlinked file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, suite, test } from 'node:test';
import { hasCode } from '../src/errors.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { defaultLibraryPath, libraryLocation } from '../src/library/location.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import { addFakeMedia, exited, spawnWorker, until, writeFakePipeline, runLibraryCli } from './library-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-opening-'));
const pipelineModule = writeFakePipeline(dir);
const children: Array<ReturnType<typeof spawnWorker>> = [];
const libraries: Library[] = [];
let n = 0;

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(libraries.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

const run = runLibraryCli;

suite('library opening rules', () => {
  test('status, scenes, search, export, retry and cancel on a missing library fail with LIBRARY_NOT_FOUND and create nothing', async () => {
    const missing = path.join(dir, 'typo', 'libary.db');
    const cases: Array<[string, string[]]> = [
      ['status', []],
      ['scenes', ['med_x']],
      ['search', ['harbour']],
      ['export', ['med_x', '--format', 'csv']],
      ['retry', ['job_x']],
      ['cancel', ['job_x']],
    ];
    for (const [command, args] of cases) {
      const result = await run(command, [...args, '--library', missing]);
      assert.equal(result.code, 1, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /^scenescope: error \[LIBRARY_NOT_FOUND\]: No library at .*libary\.db/, command);
    }
    assert.equal(existsSync(path.join(dir, 'typo')), false, 'no folder, no file was created');
    const viaEnv = await run('status', [], { SCENESCOPE_LIBRARY: missing });
    assert.match(viaEnv.stderr, /LIBRARY_NOT_FOUND/);
  });

  test('openLibrary({ create: false }) refuses a missing file; the default still creates one', async () => {
    const file = path.join(dir, 'fresh.db');
    await assert.rejects(openLibrary({ path: file, workers: 0, create: false }), (e: unknown) => hasCode(e, 'LIBRARY_NOT_FOUND'));
    assert.equal(existsSync(file), false);
    const created = await openLibrary({ path: file, workers: 0 });
    await created.close();
    const reopened = await openLibrary({ path: file, workers: 0, create: false });
    await reopened.close();
  });

  test('a URL is never taken as a relative file path', async () => {
    assert.deepEqual(libraryLocation('postgres://me@127.0.0.1:5432/media'), { kind: 'postgres', url: 'postgres://me@127.0.0.1:5432/media' });
    assert.deepEqual(libraryLocation('postgresql://h/db'), { kind: 'postgres', url: 'postgresql://h/db' });
    assert.equal(libraryLocation('mysql://h/db'), null);
    assert.equal(defaultLibraryPath({ SCENESCOPE_LIBRARY: 'postgres://me@db.example/lib' }), 'postgres://me@db.example/lib');
    const before = readdirSync(process.cwd());
    const unknown = await run('status', ['--library', 'mysql://me:pw@127.0.0.1/db']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /\[INVALID_OPTION\].*library file path or a postgres:\/\/ URL.*mysql:\/\/me:\*\*\*@/);
    await assert.rejects(openLibrary({ path: 'sqlite://x.db', workers: 0 }), (e: unknown) => hasCode(e, 'INVALID_OPTION'));
    assert.deepEqual(readdirSync(process.cwd()), before, 'no "mysql:" or "postgres:" folder appeared');
  });

  for (const how of ['deleted', 'replaced'] as const) {
    test(`a library file ${how} under a running worker: the worker stops with LIBRARY_GONE, exit 1`, async () => {
      const file = path.join(dir, `gone-${++n}.db`);
      const lib = await openLibrary({ path: file, workers: 0 });
      libraries.push(lib);
      const media = await addFakeMedia(lib, dir, `gone-${n}`, { stepMs: { detect: 1500 } });
      await lib.videoAnalysis.queue(media);
      const log = path.join(dir, `gone-${n}.log`);
      const child = spawnWorker(file, ['--pipeline', pipelineModule, '--poll-ms', '50', '--json', '--exit-when-idle'], { FAKE_PIPELINE_LOG: log });
      children.push(child);
      await until(() => existsSync(log) && /detect start/.test(readFileSync(log, 'utf8')), 10_000, 'the worker to start detect');
      if (how === 'deleted') {
        for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) unlinkSync(file + suffix);
      } else {
        const other = path.join(dir, `other-${n}.db`);
        openSqliteStore(other).close();
        renameSync(other, file);
      }
      const code = await exited(child);
      assert.equal(code, 1, child.output());
      assert.match(child.output(), /\[LIBRARY_GONE\]: The library file .* was (deleted|replaced by another file) while open/);
      assert.doesNotMatch(child.output(), /"event":"completed"/);
    });
  }
});
