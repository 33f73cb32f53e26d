/**
 * Command-line parsing shared by the commands: each command declares its options once (name, value, help), and
 * that one table gives the parser, the `--help` text, "did you mean" suggestions and the usage errors.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes, e.g. "min-scene-len". A boolean defaulting to true is written `--no-<name>`. */
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. "<duration>". */
  value?: string;
  /** One line of help (more lines joined by "\n" are indented under it). */
  help: string;
  /** Booleans only: true means the flag is on unless `--no-<name>` is given. */
  defaultTrue?: boolean;
  /** Strings only: the option may repeat; values are collected. */
  multiple?: boolean;
}

/** A command: its name, usage line, summary and options. */
export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  options: readonly OptionSpec[];
  /** Extra help after the option list. */
  notes?: string;
}

/** Parsed values: strings, booleans and string arrays by option name. */
export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate to `word` when it is close enough to be a typo (or a prefix), else undefined. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(word.length / 3))) ? best : undefined;
}

/** `; did you mean "x"?` or "" */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : `; did you mean "${prefix}${best}"?`;
}

/** The help text of a command, listing every option. */
export function commandHelp(spec: CommandSpec): string {
  const rows = spec.options.map((o) => {
    const flag = o.type === 'boolean' && o.defaultTrue === true ? `--no-${o.name}` : `--${o.name}`;
    const left = `${o.short !== undefined ? `-${o.short}, ` : '    '}${flag}${o.value !== undefined ? ` ${o.value}` : ''}`;
    return [left, o.help] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = rows.map(([left, help]) => `  ${left.padEnd(width)}${help.split('\n').join(`\n  ${' '.repeat(width)}`)}`);
  return `Usage: ${spec.usage}\n\n${spec.summary}\n\nOptions:\n${lines.join('\n')}\n${spec.notes !== undefined ? `\n${spec.notes}\n` : ''}`;
}

/**
 * Parse `argv` for `spec`. Returns null when help was asked for (the caller prints {@link commandHelp}).
 * @throws UsageError for unknown options (with the closest name), missing values and stray negations.
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): { values: ParsedValues; positionals: string[] } | null {
  if (argv.includes('--help') || argv.includes('-h')) return null;
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  // "--min-scene-len -1": node's parser reads "-1" as an option; take it as the value so validation can say why
  // it is wrong instead of "argument is ambiguous".
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const option = arg.startsWith('--') ? byName.get(arg.slice(2)) : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of spec.options) options[o.name] = { type: o.type, ...(o.short !== undefined ? { short: o.short } : {}), ...(o.multiple === true ? { multiple: true } : {}) };
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true, allowNegative: true } as Parameters<typeof parseArgs>[0]) as typeof parsed;
  } catch (error) {
    throw usageFromParser(spec, error as Error & { code?: string });
  }
  for (const o of spec.options) {
    const v = parsed.values[o.name];
    if (o.type === 'boolean' && v === false && o.defaultTrue !== true) throw new UsageError(`--no-${o.name} is not an option of ${spec.name} (--${o.name} is off unless given)`, spec.name);
    if (o.type === 'boolean' && v === undefined && o.defaultTrue === true) parsed.values[o.name] = true;
  }
  return parsed;
}

function usageFromParser(spec: CommandSpec, error: Error & { code?: string }): UsageError {
  const names = spec.options.flatMap((o) => (o.type === 'boolean' && o.defaultTrue === true ? [o.name, `no-${o.name}`] : [o.name]));
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(error.message);
  if (unknown !== null) {
    const word = unknown[2]!.replace(/=.*/, '');
    return new UsageError(`unknown option ${unknown[1]}${word} for ${spec.name}${didYouMean(word, names, '--')}`, spec.name);
  }
  const missing = /Option '(?:-\w, )?--([^ ']+) <value>' argument missing/.exec(error.message);
  if (missing !== null) return new UsageError(`--${missing[1]} needs a value`, spec.name);
  const notString = /Option '(?:-\w, )?--([^ ']+)' does not take an argument/.exec(error.message);
  if (notString !== null) return new UsageError(`--${notString[1]} takes no value`, spec.name);
  return new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, ''), spec.name);
}
