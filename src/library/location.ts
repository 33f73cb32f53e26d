/**
 * Where the library lives when nobody says: `SCENESCOPE_LIBRARY`, else the platform's per-user data folder.
 * The library's files (thumbnails, posters, copied media) sit in `<name>.assets/` beside the database file, so
 * that moving or deleting a library is moving or deleting two entries of one folder.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** Environment variable naming the library database file. */
export const LIBRARY_ENV = 'SCENESCOPE_LIBRARY';

/**
 * The default library database path.
 * - `SCENESCOPE_LIBRARY` when set;
 * - Linux and other Unix: `$XDG_DATA_HOME/scenescope/library.db`, `$XDG_DATA_HOME` defaulting to `~/.local/share`;
 * - macOS: `~/Library/Application Support/scenescope/library.db`;
 * - Windows: `%LOCALAPPDATA%\scenescope\library.db`.
 */
export function defaultLibraryPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const explicit = env[LIBRARY_ENV];
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'scenescope', 'library.db');
  if (platform === 'win32') {
    const base = env.LOCALAPPDATA !== undefined && env.LOCALAPPDATA !== '' ? env.LOCALAPPDATA : path.join(home, 'AppData', 'Local');
    return path.win32.join(base, 'scenescope', 'library.db');
  }
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const base = xdg !== undefined && xdg !== '' && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share');
  return path.join(base, 'scenescope', 'library.db');
}

/** The folder of a library's files: `library.db` -> `library.assets`. */
export function assetsDirFor(databasePath: string): string {
  const absolute = path.resolve(databasePath);
  const ext = path.extname(absolute);
  return path.join(path.dirname(absolute), `${path.basename(absolute, ext)}.assets`);
}
