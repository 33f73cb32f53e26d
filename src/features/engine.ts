/**
 * Loads the feature kernel: the native addon when it can, the TypeScript twin otherwise.
 *
 * The addon is looked for at `build/Release/scenescope_native.node`, then `build/Debug/...` (built in a clone by
 * `npm install`), then `prebuilds/<platform>-<arch>/scenescope_native.node` (shipped in the npm tarball, made at
 * pack time by scripts/prebuild.js, so a project that installs scenescope needs no compiler), relative to the
 * package root (the nearest package.json named "scenescope" above this file, so the same code works from
 * `src/` and from `dist/src/`). Every failure is recorded; by default the engine falls back to TypeScript and
 * says why in {@link FeatureEngine.info}. Asked to insist on native (`requireNative`, or the environment
 * variable `SCENESCOPE_NATIVE=require`), it throws one NATIVE_UNAVAILABLE error listing every cause and the
 * fix. `SCENESCOPE_NATIVE=0` forces TypeScript.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenescopeError } from '../errors.js';
import { invalid, oneOf, bool, plainOptions, opt } from '../util/validate.js';
import { KERNEL_VERSION, allocBatch, computeFeaturesTS, type ComputeFeatures } from './kernel.js';
import type { FeatureBatch } from './types.js';

const require = createRequire(import.meta.url);

/** Where features are computed. */
export type FeatureBackend = 'native' | 'typescript';

/** The native addon's exports. */
export interface NativeBinding {
  compute: ComputeFeatures;
  /** The DCT cosine table, 8 x 32 row-major (for the parity test). */
  cosTable(): Int32Array;
  /** Must equal {@link KERNEL_VERSION}. */
  version: string;
}

/** What the loader found. */
export interface FeatureEngineInfo {
  backend: FeatureBackend;
  native: {
    loaded: boolean;
    /** The addon file that loaded. */
    path?: string;
    /** Why the addon is not in use, one entry per candidate tried (empty when it loaded). */
    errors: string[];
  };
}

/** A loaded feature kernel. */
export interface FeatureEngine {
  readonly backend: FeatureBackend;
  /** Compute into caller-owned arrays (see {@link ComputeFeatures}). */
  compute: ComputeFeatures;
  /** Compute into a freshly allocated batch (one ArrayBuffer, see allocBatch), or into `reuse` when it has the batch's size. */
  computeBatch(frames: Uint8Array, width: number, height: number, count: number, hasPrev: boolean, reuse?: ArrayBuffer): FeatureBatch;
  info(): FeatureEngineInfo;
}

/** Options of {@link loadFeatureEngine}. */
export interface FeatureEngineOptions {
  /** Backend to use when both are available. Default "native". */
  prefer?: FeatureBackend | undefined;
  /** Throw NATIVE_UNAVAILABLE instead of falling back to TypeScript. Default false. */
  requireNative?: boolean | undefined;
}

const ADDON_FILE = 'scenescope_native.node';
const FIX = 'run npm run build:native in the scenescope folder (g++ and make needed)';

let packageRoot: string | null | undefined;

/** The nearest directory above this module whose package.json is named "scenescope" (null if none). */
export function findPackageRoot(): string | null {
  if (packageRoot !== undefined) return packageRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  packageRoot = null;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown }).name === 'scenescope') {
          packageRoot = dir;
          break;
        }
      } catch {
        // An unreadable package.json on the way up is not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return packageRoot;
}

/** Electron packs files into app.asar, where a .node file cannot be dlopen'ed; electron-builder unpacks it. */
function unasar(p: string): string {
  return p.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`);
}

interface NativeLoad {
  binding?: NativeBinding;
  path?: string;
  errors: string[];
}

let nativeLoad: NativeLoad | undefined;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * Try the addon candidates once per thread and remember the outcome. Never throws: failures are returned
 * as messages, one per candidate.
 */
export function loadNativeBinding(): Readonly<NativeLoad> {
  if (nativeLoad !== undefined) return nativeLoad;
  const errors: string[] = [];
  const root = findPackageRoot();
  if (root === null) {
    nativeLoad = { errors: ['cannot find the scenescope package root (no package.json named "scenescope" above ' + fileURLToPath(import.meta.url) + ')'] };
    return nativeLoad;
  }
  const candidates = [path.join(root, 'build', 'Release', ADDON_FILE), path.join(root, 'build', 'Debug', ADDON_FILE), path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, ADDON_FILE)];
  for (const candidate of candidates) {
    const file = unasar(candidate);
    if (!existsSync(file)) {
      errors.push(`${file}: not found`);
      continue;
    }
    try {
      const binding = require(file) as Partial<NativeBinding>;
      if (typeof binding.compute !== 'function' || typeof binding.cosTable !== 'function') {
        errors.push(`${file}: not a scenescope feature addon (no compute/cosTable)`);
        continue;
      }
      if (binding.version !== KERNEL_VERSION) {
        errors.push(`${file}: stale build, kernel ${String(binding.version)} but this code needs ${KERNEL_VERSION}`);
        continue;
      }
      nativeLoad = { binding: binding as NativeBinding, path: file, errors: [] };
      return nativeLoad;
    } catch (error) {
      errors.push(`${file}: ${firstLine(error)}`);
    }
  }
  nativeLoad = { errors };
  return nativeLoad;
}

function makeEngine(backend: FeatureBackend, compute: ComputeFeatures, native: FeatureEngineInfo['native']): FeatureEngine {
  return {
    backend,
    compute,
    computeBatch(frames, width, height, count, hasPrev, reuse) {
      const batch = allocBatch(count, reuse);
      compute(frames, width, height, count, hasPrev, batch.scalars, batch.hist, batch.hash, batch.grid);
      return batch;
    },
    info: () => ({ backend, native: { ...native, errors: [...native.errors] } }),
  };
}

/**
 * Load the feature kernel.
 *
 * The environment variable `SCENESCOPE_NATIVE` overrides the options: "0" forces TypeScript, "require" insists
 * on native, "1" or unset leaves the choice to the options.
 *
 * @throws OptionError for unknown options, contradictory ones (`prefer: "typescript"` with `requireNative`)
 *   or an unknown SCENESCOPE_NATIVE value.
 * @throws ScenescopeError NATIVE_UNAVAILABLE when native is required and cannot load; the message lists every
 *   cause and the fix.
 */
export function loadFeatureEngine(options?: FeatureEngineOptions): FeatureEngine {
  const o = plainOptions('feature engine options', options, ['prefer', 'requireNative']);
  let prefer = opt<FeatureBackend>(o, 'prefer', 'native', (name, value) => oneOf(name, value, ['native', 'typescript'] as const));
  let requireNative = opt(o, 'requireNative', false, bool);
  if (prefer === 'typescript' && requireNative) {
    throw invalid('prefer "native" (or no prefer) when requireNative is true', 'prefer', prefer);
  }
  const env = process.env['SCENESCOPE_NATIVE'];
  let disabled = false;
  if (env !== undefined && env !== '') {
    const mode = oneOf('SCENESCOPE_NATIVE', env, ['0', '1', 'require'] as const);
    if (mode === '0') {
      disabled = true;
      prefer = 'typescript';
    } else if (mode === 'require') {
      requireNative = true;
      prefer = 'native';
    }
  }

  if (prefer === 'typescript' && !requireNative) {
    const why = disabled ? 'disabled by SCENESCOPE_NATIVE=0' : 'not tried: prefer is "typescript"';
    return makeEngine('typescript', computeFeaturesTS, { loaded: false, errors: [why] });
  }
  if (disabled) {
    throw new ScenescopeError('NATIVE_UNAVAILABLE', `The native feature addon is required but disabled by SCENESCOPE_NATIVE=0; unset it or set it to "require"`);
  }
  const load = loadNativeBinding();
  if (load.binding !== undefined && load.path !== undefined) {
    return makeEngine('native', load.binding.compute, { loaded: true, path: load.path, errors: [] });
  }
  if (requireNative) {
    throw new ScenescopeError('NATIVE_UNAVAILABLE', `The native feature addon is required but could not be loaded (${load.errors.join('; ')}); ${FIX}`, {
      details: { errors: [...load.errors], fix: FIX },
    });
  }
  return makeEngine('typescript', computeFeaturesTS, { loaded: false, errors: [...load.errors] });
}
