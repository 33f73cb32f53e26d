/**
 * Default folders: one module (src/util/paths.ts) decides them, and the models, library and thumbnail code all
 * give the same answer for the same environment.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { suite, test } from 'node:test';
import { defaultDataDir } from '../src/api/analyze.js';
import { defaultLibraryPath } from '../src/library/location.js';
import { defaultModelsDir } from '../src/models/registry.js';
import { dataDir, libraryPath, modelsDir, thumbnailsDir } from '../src/util/paths.js';

suite('default folders', () => {
  test('Linux: XDG_DATA_HOME when absolute; a relative value is ignored, as the XDG spec says', () => {
    const ctx = { platform: 'linux' as const, home: '/home/u' };
    assert.equal(dataDir({ ...ctx, env: {} }), '/home/u/.local/share/scenescope');
    assert.equal(dataDir({ ...ctx, env: { XDG_DATA_HOME: '/data' } }), '/data/scenescope');
    assert.equal(dataDir({ ...ctx, env: { XDG_DATA_HOME: 'rel' } }), '/home/u/.local/share/scenescope');
    assert.equal(dataDir({ ...ctx, env: { XDG_DATA_HOME: '' } }), '/home/u/.local/share/scenescope');
    assert.equal(modelsDir({ ...ctx, env: { XDG_DATA_HOME: 'rel' } }), '/home/u/.local/share/scenescope/models');
    assert.equal(libraryPath({ ...ctx, env: { XDG_DATA_HOME: '/data' } }), '/data/scenescope/library.db');
    assert.equal(thumbnailsDir({ ...ctx, env: { XDG_DATA_HOME: '/data' } }), '/data/scenescope/thumbnails');
  });

  test('macOS: ~/Library/Application Support for data, models and library alike (XDG is not a macOS convention)', () => {
    const ctx = { platform: 'darwin' as const, home: '/Users/u', env: { XDG_DATA_HOME: '/x' } };
    assert.equal(dataDir(ctx), '/Users/u/Library/Application Support/scenescope');
    assert.equal(modelsDir(ctx), '/Users/u/Library/Application Support/scenescope/models');
    assert.equal(libraryPath(ctx), '/Users/u/Library/Application Support/scenescope/library.db');
  });

  test('Windows: %LOCALAPPDATA%, else ~\\AppData\\Local; a relative LOCALAPPDATA is ignored', () => {
    const ctx = { platform: 'win32' as const, home: 'C:\\Users\\u' };
    assert.equal(dataDir({ ...ctx, env: { LOCALAPPDATA: 'D:\\Local' } }), 'D:\\Local\\scenescope');
    assert.equal(dataDir({ ...ctx, env: {} }), 'C:\\Users\\u\\AppData\\Local\\scenescope');
    assert.equal(dataDir({ ...ctx, env: { LOCALAPPDATA: 'rel' } }), 'C:\\Users\\u\\AppData\\Local\\scenescope');
    assert.equal(libraryPath({ ...ctx, env: { LOCALAPPDATA: 'D:\\Local' } }), 'D:\\Local\\scenescope\\library.db');
  });

  test('SCENESCOPE_DATA_DIR moves everything; SCENESCOPE_MODELS_DIR and SCENESCOPE_LIBRARY move one thing', () => {
    const ctx = { platform: 'linux' as const, home: '/home/u' };
    assert.equal(modelsDir({ ...ctx, env: { SCENESCOPE_DATA_DIR: '/srv/ss' } }), '/srv/ss/models');
    assert.equal(libraryPath({ ...ctx, env: { SCENESCOPE_DATA_DIR: '/srv/ss' } }), '/srv/ss/library.db');
    assert.equal(modelsDir({ ...ctx, env: { SCENESCOPE_MODELS_DIR: '/m' } }), '/m');
    assert.equal(libraryPath({ ...ctx, env: { SCENESCOPE_LIBRARY: 'lib.db' } }), path.resolve('lib.db'));
  });

  test('the models, library and analysis defaults are the same folder for the same environment', () => {
    for (const env of [{}, { XDG_DATA_HOME: 'rel' }, { XDG_DATA_HOME: '/tmp/xdg' }, { SCENESCOPE_DATA_DIR: '/tmp/ssd' }]) {
      const full = { HOME: '/home/u', ...env };
      const data = defaultDataDir(full);
      assert.equal(defaultModelsDir(full), path.join(data, 'models'), JSON.stringify(env));
      assert.equal(defaultLibraryPath(full), path.join(data, 'library.db'), JSON.stringify(env));
    }
  });
});
