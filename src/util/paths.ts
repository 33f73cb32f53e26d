/**
 * The one place that decides scenescope's default folders: the per-user data folder and, inside it, the models
 * folder, the library database and the thumbnails. The models, library and analysis code all call this module,
 * so they never disagree.
 *
 * The data folder is, in order:
 * - `SCENESCOPE_DATA_DIR` when set (made absolute against the working directory);
 * - macOS: `~/Library/Application Support/scenescope`;
 * - Windows: `%LOCALAPPDATA%\scenescope`, `%LOCALAPPDATA%` defaulting to `~\AppData\Local`;
 * - Linux and other Unix: `$XDG_DATA_HOME/scenescope`, `$XDG_DATA_HOME` defaulting to `~/.local/share`. As the
 *   XDG Base Directory spec says, a relative `XDG_DATA_HOME` (or `LOCALAPPDATA`) is invalid and ignored.
 *
 * `SCENESCOPE_MODELS_DIR` and `SCENESCOPE_LIBRARY` name the models folder and the library file directly.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** What the folders are computed from; each defaults to the running process's. */
export interface PathContext {
  env?: NodeJS.ProcessEnv | undefined;
  platform?: NodeJS.Platform | undefined;
  /** The user's home folder. Default: `HOME` on Unix when absolute, else os.homedir(). */
  home?: string | undefined;
}

/** Environment variable naming the data folder. */
export const DATA_DIR_ENV = 'SCENESCOPE_DATA_DIR';
/** Environment variable naming the models folder. */
export const MODELS_DIR_ENV = 'SCENESCOPE_MODELS_DIR';
/** Environment variable naming the library database file. */
export const LIBRARY_PATH_ENV = 'SCENESCOPE_LIBRARY';

const APP = 'scenescope';

function set(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function resolved(context: PathContext): { env: NodeJS.ProcessEnv; platform: NodeJS.Platform; paths: path.PlatformPath; home: string } {
  const env = context.env ?? process.env;
  const platform = context.platform ?? process.platform;
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const home = context.home ?? (platform !== 'win32' && set(env['HOME']) && paths.isAbsolute(env['HOME']) ? env['HOME'] : homedir());
  return { env, platform, paths, home };
}

/** The per-user data folder of scenescope (see the module comment for the rules). */
export function dataDir(context: PathContext = {}): string {
  const { env, platform, paths, home } = resolved(context);
  const explicit = env[DATA_DIR_ENV];
  if (set(explicit)) return paths.resolve(explicit);
  if (platform === 'darwin') return paths.join(home, 'Library', 'Application Support', APP);
  if (platform === 'win32') {
    const local = env['LOCALAPPDATA'];
    return paths.join(set(local) && paths.isAbsolute(local) ? local : paths.join(home, 'AppData', 'Local'), APP);
  }
  const xdg = env['XDG_DATA_HOME'];
  return paths.join(set(xdg) && paths.isAbsolute(xdg) ? xdg : paths.join(home, '.local', 'share'), APP);
}

/** The models folder: `SCENESCOPE_MODELS_DIR`, else `<data>/models`. */
export function modelsDir(context: PathContext = {}): string {
  const { env, paths } = resolved(context);
  const explicit = env[MODELS_DIR_ENV];
  return set(explicit) ? paths.resolve(explicit) : paths.join(dataDir(context), 'models');
}

/** The library database file: `SCENESCOPE_LIBRARY`, else `<data>/library.db`. */
export function libraryPath(context: PathContext = {}): string {
  const { env, paths } = resolved(context);
  const explicit = env[LIBRARY_PATH_ENV];
  return set(explicit) ? paths.resolve(explicit) : paths.join(dataDir(context), 'library.db');
}

/** Where analyzeFile puts thumbnails when no folder is given: `<data>/thumbnails`. */
export function thumbnailsDir(context: PathContext = {}): string {
  const { paths } = resolved(context);
  return paths.join(dataDir(context), 'thumbnails');
}
