/**
 * Option validation at the public boundary: tiny predicates and one message format
 * ("Expected integer between 1 and 100 for quality but received 200 of type number").
 */
import { fileURLToPath } from 'node:url';
import { OptionError } from '../errors.js';

function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    shown = '[unprintable]';
  }
  return `${shown.length > 60 ? shown.slice(0, 57) + '...' : shown} of type ${type}`;
}

/** Build the standard invalid-option error. */
export function invalid(expected: string, name: string, value: unknown): OptionError {
  return new OptionError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** A finite number in [min, max]. */
export function numberIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`number between ${min} and ${max}`, name, value);
  }
  return value;
}

/** An integer in [min, max]. */
export function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`integer between ${min} and ${max}`, name, value);
  }
  return value;
}

/** A boolean. */
export function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid('boolean', name, value);
  return value;
}

/** A non-empty string. */
export function string(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid('non-empty string', name, value);
  return value;
}

/** One of a list of strings. */
export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalid(`one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, name, value);
  }
  return value as T;
}

/** A function. */
export function func<T>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw invalid('function', name, value);
  return value as T;
}

/** An AbortSignal. */
export function signal(name: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) throw invalid('AbortSignal', name, value);
  return value;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/**
 * Check that `input` is a plain object (or undefined) whose keys are all in `known`; suggests the closest
 * valid name for a misspelt key. Returns the object (an empty one for undefined).
 */
export function plainOptions(what: string, input: unknown, known: readonly string[]): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw invalid('object', what, input);
  const object = input as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    let best = '';
    let bestDistance = Infinity;
    for (const candidate of known) {
      const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    const hint = bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best}"?` : '';
    throw new OptionError(`Unknown option "${key}" in ${what}${hint}`);
  }
  return object;
}

/** The value of `object[key]` when it is not undefined, validated; otherwise the fallback. */
export function opt<T>(object: Record<string, unknown>, key: string, fallback: T, check: (name: string, value: unknown) => T, prefix = ''): T {
  const value = object[key];
  return value === undefined ? fallback : check(prefix + key, value);
}

/**
 * A video path given to a public call: a non-empty string, or a `file:` URL (converted to a path). Anything else
 * (undefined, a number, a Buffer, an http: URL, "") is an INVALID_OPTION error, before any file is looked at.
 */
export function inputPath(name: string, value: unknown): string {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw new OptionError(`Expected a path or a file: URL for ${name} but received a ${value.protocol} URL`);
    try {
      return fileURLToPath(value);
    } catch (error) {
      throw new OptionError(`Expected a path or a file: URL for ${name} but received ${value.href} (${(error as Error).message})`, { cause: error });
    }
  }
  if (typeof value !== 'string') throw invalid('a path (string) or a file: URL', name, value);
  if (value === '') throw new OptionError(`Expected a non-empty path for ${name} but received an empty string`);
  if (value.includes('\0')) throw new OptionError(`Expected a path without NUL characters for ${name}`);
  return value;
}
