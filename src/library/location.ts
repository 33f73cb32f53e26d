/**
 * Where the library lives when nobody says: `SCENESCOPE_LIBRARY`, else the platform's per-user data folder.
 * The library's files (thumbnails, posters, copied media) sit in `<name>.assets/` beside the database file, so
 * that moving or deleting a library is moving or deleting two entries of one folder.
 */
import path from 'node:path';
import { libraryPath } from '../util/paths.js';

/** Environment variable naming the library database file. */
export const LIBRARY_ENV = 'SCENESCOPE_LIBRARY';

/**
 * The default library database path.
 * - `SCENESCOPE_LIBRARY` when set;
 * - Linux and other Unix: `$XDG_DATA_HOME/scenescope/library.db`, `$XDG_DATA_HOME` defaulting to `~/.local/share`;
 * - macOS: `~/Library/Application Support/scenescope/library.db`;
 * - Windows: `%LOCALAPPDATA%\scenescope\library.db`.
 */
export function defaultLibraryPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home?: string): string {
  // One place decides every default folder (src/util/paths.ts), so the library, models and thumbnails agree.
  return libraryPath({ env, platform, home });
}

/** The folder of a library's files: `library.db` -> `library.assets`. */
export function assetsDirFor(databasePath: string): string {
  const absolute = path.resolve(databasePath);
  const ext = path.extname(absolute);
  return path.join(path.dirname(absolute), `${path.basename(absolute, ext)}.assets`);
}
