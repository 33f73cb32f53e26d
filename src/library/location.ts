/**
 * Where the library lives when nobody says: `SCENESCOPE_LIBRARY` (a file path or a `postgres://` URL), else the
 * platform's per-user data folder. The library's files (thumbnails, posters, copied media) sit in `<name>.assets/` beside the database file, so
 * that moving or deleting a library is moving or deleting two entries of one folder.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { libraryPath } from '../util/paths.js';

/** Environment variable naming the library database file. */
export const LIBRARY_ENV = 'SCENESCOPE_LIBRARY';

/** True for a `postgres://` / `postgresql://` URL: a server library, never a file path. */
export function isDatabaseUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/**
 * Where a library keeps its data: a SQLite file (resolved) or a PostgreSQL URL (as given).
 */
export type LibraryLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * Classify a `--library` / `SCENESCOPE_LIBRARY` / `path` value. Null for a URL of a scheme scenescope has no
 * store for (`sqlite://`, `mysql://`...), which must be refused rather than become a folder named `mysql:`.
 */
export function libraryLocation(value: string): LibraryLocation | null {
  if (isDatabaseUrl(value)) return { kind: 'postgres', url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null;
  return { kind: 'sqlite', path: path.resolve(value) };
}

/**
 * The local folder of a server library's working files on this host (thumbnails are made here, then stored
 * in the database): `server-<hash of the URL without password>.assets` in the per-user data folder.
 */
export function serverAssetsDir(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const { [LIBRARY_ENV]: _ignored, ...rest } = env;
  const base = path.dirname(defaultLibraryPath(rest, platform, home));
  let key = url;
  try {
    const parsed = new URL(url);
    parsed.password = '';
    key = parsed.href;
  } catch {
    // Not parseable: hash it as given.
  }
  return path.join(base, `server-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.assets`);
}

/**
 * The default library database path (or URL).
 * - `SCENESCOPE_LIBRARY` when set (a `postgres://` URL is returned as it is, anything else is a file path);
 * - Linux and other Unix: `$XDG_DATA_HOME/scenescope/library.db`, `$XDG_DATA_HOME` defaulting to `~/.local/share`;
 * - macOS: `~/Library/Application Support/scenescope/library.db`;
 * - Windows: `%LOCALAPPDATA%\scenescope\library.db`.
 */
export function defaultLibraryPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home?: string): string {
  const explicit = env[LIBRARY_ENV];
  // A server URL is a library too, never a relative file path.
  if (explicit !== undefined && explicit !== '' && isDatabaseUrl(explicit)) return explicit;
  // One place decides every default folder (src/util/paths.ts), so the library, models and thumbnails agree.
  return libraryPath({ env, platform, home });
}

/** The folder of a library's files: `library.db` -> `library.assets`. */
export function assetsDirFor(databasePath: string): string {
  const absolute = path.resolve(databasePath);
  const ext = path.extname(absolute);
  return path.join(path.dirname(absolute), `${path.basename(absolute, ext)}.assets`);
}
