/**
 * The `scenescope` command line. Results go to stdout (one JSON document with --format json), progress and
 * errors to stderr; the exit code is 0 on success, 1 on a failed operation, 2 on a usage error. Library
 * subcommands live in their own modules and are loaded only when used.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { detectResultToJSON, detectScenes, type DetectOptions } from '../api/detect.js';
import { DETECTOR_NAMES, type DetectorName } from '../detect/index.js';
import { renderDetectResult, DETECT_FORMATS, type DetectFormat } from './render.js';
import { progressBar, reportError, UsageError, type CliIO } from './io.js';

export type { CliIO } from './io.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `scenescope ${VERSION}: offline video analysis

Usage:
  scenescope detect <video> [options]     find scene boundaries
  scenescope bench <dataset-dir> [...]    accuracy and speed against ground truth (see docs/benchmarks.md)
  scenescope models list|install|fetch    manage the local ONNX models (see docs/models.md)
  scenescope analyze <video> [options]    scenes with thumbnails, text, description, tags, embeddings
  scenescope info                         show the feature backend and ffmpeg in use
  scenescope help | --help                this text
  scenescope --version

detect options:
  --detector <name>        ${DETECTOR_NAMES.join(' | ')} (default scenescope)
  --threshold <x>          the detector's main threshold (see README)
  --min-scene-len <s>      minimum scene length in seconds (default 0.5)
  --no-flash-suppression   keep cuts caused by flashes and short white-outs
  --format <f>             ${DETECT_FORMATS.join(' | ')} (default json)
  --output, -o <file>      write the result to a file instead of stdout
  --stats <file.csv>       write per-frame metrics; re-use them when the file matches the video
  --backend <b>            auto | native | typescript (feature kernel; default auto)
  --no-progress            no progress bar on stderr
  --debug                  print stack traces on errors

analyze options (and --detector, --threshold, --min-scene-len, --output, --no-progress as above):
  --format json            one JSON document (schema_version 1)
  --thumbnails <dir>       where thumbnails go; thumbnail_url is relative to it
  --thumbnail-format <f>   jpeg (default) | webp
  --models <dir>           models folder (default SCENESCOPE_MODELS_DIR, else ~/.local/share/scenescope/models)
  --no-ocr                 do not read on-screen text
  --no-caption             do not use an installed image captioner
  --embeddings <mode>      none (default) | inline (vectors in the JSON, one line each) |
                           file (written to <output>.embeddings.json; needs --output)
`;



type ArgSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

function parse(argv: string[], options: ArgSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true } as Parameters<typeof parseArgs>[0]) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^.*?: /, ''));
  }
}

function numberArg(name: string, value: unknown): number {
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Run a command's work with Ctrl-C wired to its AbortSignal, then write its text to `output` or stdout.
 * Errors are printed the CLI way; resolves to the exit code.
 */
async function runCommand(io: CliIO, bar: { done(): void }, debug: boolean, output: string | undefined, work: (signal: AbortSignal) => Promise<string>): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const text = await work(controller.signal);
    bar.done();
    if (output !== undefined) await writeFile(output, text);
    else io.stdout.write(text);
    return 0;
  } catch (error) {
    bar.done();
    return reportError(io, error, debug);
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

async function detectCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const { values, positionals } = parse(argv, {
    detector: { type: 'string' },
    threshold: { type: 'string' },
    'min-scene-len': { type: 'string' },
    'flash-suppression': { type: 'boolean', default: true },
    format: { type: 'string', default: 'json' },
    output: { type: 'string', short: 'o' },
    stats: { type: 'string' },
    backend: { type: 'string' },
    progress: { type: 'boolean', default: true },
    debug: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'detect needs a video file' : `detect takes one video file, got ${positionals.length}`);
  const format = values['format'] as string;
  if (!(DETECT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${DETECT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const detector = values['detector'] as string | undefined;
  if (detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(detector)) throw new UsageError(`--detector must be one of ${DETECTOR_NAMES.join(', ')}, got ${JSON.stringify(detector)}`);
  const bar = progressBar(io, values['progress'] === true);
  const options: DetectOptions = { onProgress: (p) => bar.update(p.percent, p.currentStep) };
  if (detector !== undefined) options.detector = detector as DetectorName;
  if (values['threshold'] !== undefined) options.threshold = numberArg('threshold', values['threshold']);
  if (values['min-scene-len'] !== undefined) options.minSceneLen = numberArg('min-scene-len', values['min-scene-len']);
  if (values['flash-suppression'] === false) options.flashSuppression = false;
  if (values['stats'] !== undefined) options.statsFile = values['stats'] as string;
  if (values['backend'] !== undefined) options.backend = values['backend'] as 'auto';
  return runCommand(io, bar, debug, values['output'] as string | undefined, async (signal) => {
    const result = await detectScenes(positionals[0]!, { ...options, signal });
    return format === 'json' ? JSON.stringify(detectResultToJSON(result), null, 2) + '\n' : renderDetectResult(result, format as Exclude<DetectFormat, 'json'>);
  });
}

async function analyzeCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const { values, positionals } = parse(argv, {
    format: { type: 'string', default: 'json' },
    thumbnails: { type: 'string' },
    'thumbnail-format': { type: 'string' },
    ocr: { type: 'boolean', default: true },
    caption: { type: 'boolean', default: true },
    models: { type: 'string' },
    embeddings: { type: 'string', default: 'none' },
    detector: { type: 'string' },
    threshold: { type: 'string' },
    'min-scene-len': { type: 'string' },
    output: { type: 'string', short: 'o' },
    progress: { type: 'boolean', default: true },
    debug: { type: 'boolean' },
  });
  const embeddings = values['embeddings'] as string;
  if (!['none', 'inline', 'file'].includes(embeddings)) throw new UsageError(`--embeddings must be none, inline or file, got ${JSON.stringify(embeddings)}`);
  if (embeddings === 'file' && values['output'] === undefined) throw new UsageError('--embeddings file writes <output>.embeddings.json: give --output');
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'analyze needs a video file' : `analyze takes one video file, got ${positionals.length}`);
  if (values['format'] !== 'json') throw new UsageError(`--format must be json, got ${JSON.stringify(values['format'])}`);
  const detector = values['detector'] as string | undefined;
  if (detector !== undefined && !(DETECTOR_NAMES as readonly string[]).includes(detector)) throw new UsageError(`--detector must be one of ${DETECTOR_NAMES.join(', ')}, got ${JSON.stringify(detector)}`);
  const { analyzeFile, stringifyAnalysis } = await import('../api/analyze.js');
  const { degradedNotice } = await import('../enrich/degraded.js');
  const bar = progressBar(io, values['progress'] === true);
  const options: Parameters<typeof analyzeFile>[1] = {
    ocr: values['ocr'] !== false,
    caption: values['caption'] !== false,
    onProgress: (p) => bar.update(p.percent, p.currentStep),
    embeddings: embeddings as 'none',
  };
  if (embeddings === 'file') options.embeddingsFile = `${values['output'] as string}.embeddings.json`;
  const modelsDir = (values['models'] as string | undefined) ?? io.env['SCENESCOPE_MODELS_DIR'];
  if (modelsDir !== undefined) options.modelsDir = modelsDir;
  if (values['thumbnails'] !== undefined) options.thumbnailsDir = values['thumbnails'] as string;
  if (values['thumbnail-format'] !== undefined) options.thumbnailFormat = values['thumbnail-format'] as 'jpeg';
  if (detector !== undefined) options.detector = detector as DetectorName;
  if (values['threshold'] !== undefined) options.threshold = numberArg('threshold', values['threshold']);
  if (values['min-scene-len'] !== undefined) options.minSceneLen = numberArg('min-scene-len', values['min-scene-len']);
  return runCommand(io, bar, debug, values['output'] as string | undefined, async (signal) => {
    const result = await analyzeFile(positionals[0]!, { ...options, signal });
    const doc = {
      schema_version: 1,
      video: result.video,
      frame_count: result.frame_count,
      frame_rate: result.frame_rate,
      thumbnails_dir: result.thumbnails_dir,
      scenes: result.scenes,
      models: result.models.map(({ id, task, version, status, reason, hint }) => ({ id, task, version, status, ...(reason ? { reason } : {}), ...(hint ? { hint } : {}) })),
      degraded: result.degraded,
      embeddings_file: result.embeddings_file,
    };
    const notice = degradedNotice(result.degraded);
    bar.done();
    if (notice.length > 0) io.stderr.write(notice.join('\n') + '\n');
    return stringifyAnalysis(doc) + '\n';
  });
}

async function infoCommand(io: CliIO): Promise<number> {
  const { loadFeatureEngine } = await import('../features/engine.js');
  const { resolveFfmpegPaths } = await import('../media/ffmpeg.js');
  const engine = loadFeatureEngine({});
  let ffmpeg: unknown;
  try {
    ffmpeg = resolveFfmpegPaths();
  } catch (error) {
    ffmpeg = { error: (error as Error).message };
  }
  io.stdout.write(JSON.stringify({ version: VERSION, features: engine.info(), ffmpeg }, null, 2) + '\n');
  return 0;
}

/** Run the CLI with `argv` (without node and script). Resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const debug = argv.includes('--debug') || io.env['SCENESCOPE_DEBUG'] === '1';
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h': {
        const { LIBRARY_HELP } = await import('./library-commands.js');
        io.stdout.write(HELP + '\n' + LIBRARY_HELP);
        return command === undefined ? 2 : 0;
      }
      case '--version':
      case '-v':
      case 'version':
        io.stdout.write(VERSION + '\n');
        return 0;
      case 'detect':
        return await detectCommand(rest, io, debug);
      case 'analyze':
        return await analyzeCommand(rest, io, debug);
      case 'info':
        return await infoCommand(io);
      case 'add':
      case 'status':
      case 'scenes':
      case 'search':
      case 'retry':
      case 'cancel':
      case 'worker':
      case 'export': {
        const { runLibraryCommand } = await import('./library-commands.js');
        return await runLibraryCommand(command, rest, io);
      }
      case 'bench': {
        const { runBenchCommand } = await import('./bench-command.js');
        return await runBenchCommand(rest, io);
      }
      case 'models': {
        const { runModelsCommand } = await import('./models-command.js');
        return await runModelsCommand(rest, io);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return reportError(io, error, debug);
  }
}
