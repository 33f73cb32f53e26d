/**
 * The `scenescope` command line. Results go to stdout (one JSON document with --format json), progress and
 * errors to stderr. Every error is one line `scenescope: error [CODE]: message`; exit codes are 0 success,
 * 1 failure, 2 usage error, 130 interrupted (Ctrl-C; 143 for SIGTERM). Each command declares its options once
 * (src/cli/args.ts), which gives its `--help`, its "did you mean" and its usage errors. Library, bench and
 * models subcommands live in their own modules and are loaded only when used.
 */
import { readFileSync } from 'node:fs';
import { detectAgain, detectResultToJSON, detectScenes, type DetectOptions, type DetectResult } from '../api/detect.js';
import { DETECTOR_NAMES, type DetectorName } from '../detect/index.js';
import { probe } from '../media/probe.js';
import { closest, commandHelp, didYouMean, parseCommand, type CommandSpec, type OptionSpec, type ParsedValues } from './args.js';
import { DURATION_FORMS, parseDuration, toSeconds, type Duration } from './duration.js';
import { EXIT, progressBar, reportError, UsageError, writeFileAtomic, writeStdout, type CliIO, type ProgressBar } from './io.js';
import { renderDetectResult, DETECT_FORMATS, type DetectFormat } from './render.js';

export type { CliIO } from './io.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const LIBRARY_COMMANDS = ['add', 'status', 'scenes', 'search', 'retry', 'cancel', 'worker', 'export'] as const;
const COMMAND_NAMES = ['detect', 'analyze', 'split', 'images', 'info', 'bench', 'models', ...LIBRARY_COMMANDS, 'help', 'version'] as const;

const opt = (name: string, type: 'string' | 'boolean', help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({ name, type, help, ...extra });

const DETECTION: readonly OptionSpec[] = [
  opt('detector', 'string', `${DETECTOR_NAMES.join(' | ')} (default scenescope)`, { value: '<name>' }),
  opt('threshold', 'string', "the detector's main threshold (see README)", { value: '<x>' }),
  opt('min-scene-len', 'string', `shortest scene (default 0.5s; the default detector allows 0.2s next to a hard cut unless this is given); ${DURATION_FORMS}`, { value: '<duration>' }),
  opt('flash-suppression', 'boolean', 'keep cuts caused by flashes and short white-outs', { defaultTrue: true }),
];
const RANGE: readonly OptionSpec[] = [
  opt('start', 'string', 'analyse from this position (only the range is decoded)', { value: '<time>' }),
  opt('end', 'string', 'stop before this position', { value: '<time>' }),
  opt('duration', 'string', 'stop this long after --start (instead of --end)', { value: '<time>' }),
];
const COMMON: readonly OptionSpec[] = [
  opt('backend', 'string', 'feature kernel: auto | native | typescript (default auto)', { value: '<b>' }),
  opt('progress', 'boolean', 'no progress bar on stderr', { defaultTrue: true }),
  opt('debug', 'boolean', 'print stack traces and causes on errors'),
];
const TIME_NOTE = `Times and durations: ${DURATION_FORMS}. Frames need the frame rate, so the video is probed first.
Scene times and frame numbers are always on the video's own timeline, also with --start.`;

const DETECT: CommandSpec = {
  name: 'detect',
  usage: 'scenescope detect <video> [options]',
  summary: 'Find the scene boundaries of a video. Prints the JSON contract (schema_version 1) or another format.',
  options: [
    ...DETECTION.map((o) => (o.name === 'detector' ? { ...o, help: `${o.help};\nseveral, comma-separated, run on one decode (JSON output only)` } : o)),
    ...RANGE,
    opt('format', 'string', `${DETECT_FORMATS.join(' | ')} (default json)`, { value: '<f>' }),
    opt('output', 'string', 'write the result to a file (via a temp file, never truncating on failure)', { short: 'o', value: '<file>' }),
    opt('stats', 'string', 'write per-frame metrics (plain CSV plus <file>.json); re-used when they match the video', { value: '<file.csv>' }),
    ...COMMON,
  ],
  notes: TIME_NOTE,
};
const ANALYZE: CommandSpec = {
  name: 'analyze',
  usage: 'scenescope analyze <video> [options]',
  summary: 'Scenes with thumbnails, on-screen text, description, tags and embeddings from local models.',
  options: [
    opt('format', 'string', 'json (one JSON document, schema_version 1)', { value: 'json' }),
    opt('thumbnails', 'string', 'where thumbnails go; thumbnail_url is relative to it', { value: '<dir>' }),
    opt('thumbnail-format', 'string', 'jpeg (default) | webp', { value: '<f>' }),
    opt('models', 'string', 'models folder (default SCENESCOPE_MODELS_DIR, else <data folder>/models; see scenescope info)', { value: '<dir>' }),
    opt('ocr', 'boolean', 'do not read on-screen text', { defaultTrue: true }),
    opt('ocr-lang', 'string', 'languages of the on-screen text, comma-separated (e.g. eng,deu)', { value: '<a,b>' }),
    opt('caption', 'boolean', 'do not use an installed image captioner', { defaultTrue: true }),
    opt('embeddings', 'string', 'none (default) | inline (vectors in the JSON, one line each) | file (<output>.embeddings.json; needs --output)', { value: '<mode>' }),
    ...DETECTION,
    ...RANGE,
    opt('output', 'string', 'write the result to a file (via a temp file)', { short: 'o', value: '<file>' }),
    ...COMMON,
  ],
  notes: TIME_NOTE,
};
const SCENES_SOURCE: readonly OptionSpec[] = [
  opt('scenes', 'string', 'use this scene list (JSON of detect/analyze, CSV of detect --format csv or PySceneDetect)\ninstead of detecting', { value: '<file>' }),
  ...DETECTION,
  ...RANGE,
];
const SPLIT: CommandSpec = {
  name: 'split',
  usage: 'scenescope split <video> [options]',
  summary: "Write one video file per scene (PySceneDetect's split-video).",
  options: [
    ...SCENES_SOURCE,
    opt('output-dir', 'string', 'folder for the files (default: the current folder)', { short: 'o', value: '<dir>' }),
    opt('filename', 'string', 'name template (default $VIDEO_NAME-Scene-$SCENE_NUMBER); also $START_TIME,\n$END_TIME, $START_FRAME, $END_FRAME', { value: '<template>' }),
    opt('reencode', 'boolean', 're-encode (H.264/AAC .mp4) so each file starts exactly on its scene; default is\nstream copy: fast and lossless, starting at the keyframe at or before the scene'),
    opt('crf', 'string', 'x264 quality with --reencode (default 20)', { value: '<n>' }),
    ...COMMON,
  ],
  notes: TIME_NOTE,
};
const IMAGES: CommandSpec = {
  name: 'images',
  usage: 'scenescope images <video> [options]',
  summary: "Save N images per scene (PySceneDetect's save-images).",
  options: [
    ...SCENES_SOURCE,
    opt('num-images', 'string', 'images per scene (default 3), spread from one frame in at each end', { short: 'n', value: '<n>' }),
    opt('width', 'string', 'image width in pixels (height follows unless given)', { short: 'W', value: '<px>' }),
    opt('height', 'string', 'image height in pixels (width follows unless given)', { short: 'H', value: '<px>' }),
    opt('image-format', 'string', 'jpeg (default) | png | webp', { value: '<f>' }),
    opt('quality', 'string', 'jpeg/webp quality 1-100 (default 90)', { value: '<q>' }),
    opt('output-dir', 'string', 'folder for the images (default: the current folder)', { short: 'o', value: '<dir>' }),
    opt('filename', 'string', 'name template (default $VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER)', { value: '<template>' }),
    ...COMMON,
  ],
  notes: TIME_NOTE,
};
const INFO: CommandSpec = {
  name: 'info',
  usage: 'scenescope info [--json]',
  summary: 'Show the version, feature backend, ffmpeg and ffprobe (versions and paths), the data, models and library folders and each model\'s status.',
  options: [opt('json', 'boolean', 'print JSON'), opt('models', 'string', 'models folder to report on', { value: '<dir>' }), opt('debug', 'boolean', 'print stack traces on errors')],
};
const SPECS: Record<string, CommandSpec> = { detect: DETECT, analyze: ANALYZE, split: SPLIT, images: IMAGES, info: INFO };

const HELP = `scenescope ${VERSION}: offline video analysis

Usage:
  scenescope detect <video> [options]     find scene boundaries
  scenescope analyze <video> [options]    scenes with thumbnails, text, description, tags, embeddings
  scenescope split <video> [options]      one video file per scene (stream copy or --reencode)
  scenescope images <video> [options]     N images per scene (jpeg, png, webp)
  scenescope bench <dataset-dir> [...]    accuracy and speed against ground truth (see docs/benchmarks.md)
  scenescope models list|install|fetch    manage the local ONNX models (see docs/models.md)
  scenescope info                         versions, ffmpeg, folders, models
  scenescope <command> --help             every option of a command
  scenescope --version

Durations (--min-scene-len, --start, --end, --duration): ${DURATION_FORMS}.
Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).
Errors: one line on stderr, "scenescope: error [CODE]: message" (codes in docs/errors.md).
`;

function numberArg(command: string, name: string, value: unknown, min: number, max: number, integer = false): number {
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got ${JSON.stringify(value)}`, command);
  if (n < min || n > max || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${value}`, command);
  return n;
}

function oneVideo(spec: CommandSpec, positionals: string[]): string {
  if (positionals.length === 1) return positionals[0]!;
  const stray = positionals.slice(1).find((p) => closest(p.replace(/^-+/, ''), spec.options.map((o) => o.name)) !== undefined);
  if (positionals.length === 0) throw new UsageError(`${spec.name} needs a video file`, spec.name);
  throw new UsageError(`${spec.name} takes one video file, got ${positionals.length}${stray !== undefined ? ` (is "${stray}" meant as an option?)` : ''}`, spec.name);
}

function detectorNames(command: string, value: unknown, allowSeveral: boolean): DetectorName[] | undefined {
  if (value === undefined) return undefined;
  const names = String(value).split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new UsageError('--detector needs a name', command);
  for (const name of names) {
    if (!(DETECTOR_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown detector "${name}" (detectors: ${DETECTOR_NAMES.join(', ')})${didYouMean(name, DETECTOR_NAMES)}`, command);
  }
  if (names.length > 1 && !allowSeveral) throw new UsageError(`${command} takes one --detector`, command);
  return names as DetectorName[];
}

/** Durations as given; seconds once the frame rate is known. */
interface TimeArgs {
  minSceneLen?: Duration;
  start?: Duration;
  end?: Duration;
  duration?: Duration;
}

function timeArgs(command: string, values: ParsedValues): TimeArgs {
  const out: TimeArgs = {};
  for (const [key, name] of [['minSceneLen', 'min-scene-len'], ['start', 'start'], ['end', 'end'], ['duration', 'duration']] as const) {
    const v = values[name];
    if (typeof v === 'string') out[key] = parseDuration(name, v, command);
  }
  if (out.end !== undefined && out.duration !== undefined) throw new UsageError('give --end or --duration, not both', command);
  return out;
}

/** Probe only when a duration is in frames; returns the DetectOptions fields in seconds. */
async function resolveTimes(command: string, video: string, times: TimeArgs, signal: AbortSignal): Promise<Pick<DetectOptions, 'minSceneLen' | 'start' | 'end'>> {
  const all = [times.minSceneLen, times.start, times.end, times.duration];
  const rate = all.some((d) => d !== undefined && 'frames' in d) ? (await probe(video, { signal })).stream.frame_rate : 1;
  const out: Pick<DetectOptions, 'minSceneLen' | 'start' | 'end'> = {};
  if (times.minSceneLen !== undefined) out.minSceneLen = toSeconds(times.minSceneLen, rate);
  const start = times.start !== undefined ? toSeconds(times.start, rate) : 0;
  if (start > 0) out.start = start;
  if (times.end !== undefined) out.end = toSeconds(times.end, rate);
  if (times.duration !== undefined) out.end = start + toSeconds(times.duration, rate);
  if (out.end !== undefined && out.end <= start) throw new UsageError(`--end (${out.end} s) must come after --start (${start} s)`, command);
  return out;
}

function detectionOptions(command: string, values: ParsedValues): DetectOptions {
  const options: DetectOptions = {};
  if (values['threshold'] !== undefined) options.threshold = numberArg(command, 'threshold', values['threshold'], 0, 1e6);
  if (values['flash-suppression'] === false) options.flashSuppression = false;
  if (values['backend'] !== undefined) {
    const b = String(values['backend']);
    if (!['auto', 'native', 'typescript'].includes(b)) throw new UsageError(`--backend must be auto, native or typescript, got ${JSON.stringify(b)}${didYouMean(b, ['auto', 'native', 'typescript'])}`, command);
    options.backend = b as 'auto';
  }
  return options;
}

/**
 * Run a command's work with Ctrl-C / SIGTERM wired to its AbortSignal (a second Ctrl-C exits at once), then
 * write its text to `output` (atomically) or stdout. Resolves to the exit code.
 */
async function runCommand(io: CliIO, bar: ProgressBar, debug: boolean, output: string | undefined, work: (signal: AbortSignal) => Promise<string>): Promise<number> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) process.exit(EXIT.INTERRUPTED);
    interrupted = signal;
    controller.abort(new Error(`interrupted (${signal})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const text = await work(controller.signal);
    bar.done();
    if (output !== undefined) await writeFileAtomic(output, text);
    else await writeStdout(io, text);
    return EXIT.OK;
  } catch (error) {
    bar.done();
    const code = reportError(io, error, debug, { interrupted: interrupted !== undefined });
    return interrupted === 'SIGTERM' ? 143 : code;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function multiJSON(results: DetectResult[]): Record<string, unknown> {
  const first = detectResultToJSON(results[0]!);
  return {
    schema_version: 1,
    video: first['video'],
    frame_count: first['frame_count'],
    frame_rate: first['frame_rate'],
    detectors: results.map((r) => {
      const { boundaries, scenes } = detectResultToJSON(r);
      return { detector: r.detector, threshold: r.threshold, boundaries, scenes };
    }),
  };
}

async function detectCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const parsed = parseCommand(DETECT, argv);
  if (parsed === null) return help(io, DETECT);
  const { values, positionals } = parsed;
  const video = oneVideo(DETECT, positionals);
  const format = values['format'] as string | undefined ?? 'json';
  if (!(DETECT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${DETECT_FORMATS.join(', ')}, got ${JSON.stringify(format)}${didYouMean(format, DETECT_FORMATS)}`, 'detect');
  const detectors = detectorNames('detect', values['detector'], true);
  if (detectors !== undefined && detectors.length > 1 && format !== 'json') throw new UsageError('several detectors print JSON only (--format json)', 'detect');
  if (detectors !== undefined && detectors.length > 1 && values['threshold'] !== undefined) throw new UsageError('--threshold applies to one detector; run several detectors with their default thresholds', 'detect');
  const times = timeArgs('detect', values);
  const options = detectionOptions('detect', values);
  if (values['stats'] !== undefined) options.statsFile = values['stats'] as string;
  const bar = progressBar(io, values['progress'] === true);
  options.onProgress = (p) => bar.update(p.percent, p.currentStep, { done: p.frames, name: 'frames' });
  if (detectors !== undefined) options.detector = detectors[0]!;
  return runCommand(io, bar, debug, values['output'] as string | undefined, async (signal) => {
    const resolvedTimes = await resolveTimes('detect', video, times, signal);
    const result = await detectScenes(video, { ...options, ...resolvedTimes, signal });
    if (detectors !== undefined && detectors.length > 1) {
      // The other detectors run on the first one's features: one decode for all.
      const shared = { ...(resolvedTimes.minSceneLen !== undefined ? { minSceneLen: resolvedTimes.minSceneLen } : {}), ...(options.flashSuppression === false ? { flashSuppression: false } : {}) };
      const all = [result, ...detectors.slice(1).map((detector) => detectAgain(result, { detector, ...shared }))];
      return JSON.stringify(multiJSON(all), null, 2) + '\n';
    }
    return format === 'json' ? JSON.stringify(detectResultToJSON(result), null, 2) + '\n' : renderDetectResult(result, format as Exclude<DetectFormat, 'json'>);
  });
}

async function analyzeCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const parsed = parseCommand(ANALYZE, argv);
  if (parsed === null) return help(io, ANALYZE);
  const { values, positionals } = parsed;
  const video = oneVideo(ANALYZE, positionals);
  if (values['format'] !== undefined && values['format'] !== 'json') throw new UsageError(`--format must be json, got ${JSON.stringify(values['format'])}`, 'analyze');
  const detectors = detectorNames('analyze', values['detector'], false);
  const times = timeArgs('analyze', values);
  const tf = values['thumbnail-format'] as string | undefined;
  if (tf !== undefined && tf !== 'jpeg' && tf !== 'webp') throw new UsageError(`--thumbnail-format must be jpeg or webp, got ${JSON.stringify(tf)}${didYouMean(tf, ['jpeg', 'webp'])}`, 'analyze');
  // The CLI's JSON is for reading: vectors only when asked for (the library keeps them inline).
  const embeddings = (values['embeddings'] as string | undefined) ?? 'none';
  if (embeddings !== 'none' && embeddings !== 'inline' && embeddings !== 'file') throw new UsageError(`--embeddings must be none, inline or file, got ${JSON.stringify(embeddings)}${didYouMean(embeddings, ['none', 'inline', 'file'])}`, 'analyze');
  if (embeddings === 'file' && values['output'] === undefined) throw new UsageError('--embeddings file writes <output>.embeddings.json: give --output', 'analyze');
  const { analyzeFile, stringifyAnalysis } = await import('../api/analyze.js');
  const { degradedNotice } = await import('../enrich/degraded.js');
  const bar = progressBar(io, values['progress'] === true);
  let started = 0;
  const options: Parameters<typeof analyzeFile>[1] = {
    ...detectionOptions('analyze', values),
    ocr: values['ocr'] !== false,
    caption: values['caption'] !== false,
    onProgress: (p) => {
      started ||= Date.now();
      bar.update(p.percent, p.currentStep);
    },
    embeddings,
  };
  if (embeddings === 'file') options.embeddingsFile = `${values['output'] as string}.embeddings.json`;
  const modelsDir = (values['models'] as string | undefined) ?? io.env['SCENESCOPE_MODELS_DIR'];
  if (modelsDir !== undefined) options.modelsDir = modelsDir;
  if (typeof values['ocr-lang'] === 'string') options.ocrLanguages = values['ocr-lang'].split(',').map((l) => l.trim()).filter((l) => l !== '');
  if (values['thumbnails'] !== undefined) options.thumbnailsDir = values['thumbnails'] as string;
  if (tf !== undefined) options.thumbnailFormat = tf;
  if (detectors !== undefined) options.detector = detectors[0]!;
  return runCommand(io, bar, debug, values['output'] as string | undefined, async (signal) => {
    const result = await analyzeFile(video, { ...options, ...(await resolveTimes('analyze', video, times, signal)), signal });
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
    // What a missing model costs, said once on stderr after the bar (the library only reports it).
    const notice = degradedNotice(result.degraded);
    bar.done();
    if (notice.length > 0) io.stderr.write(notice.join('\n') + '\n');
    return stringifyAnalysis(doc) + '\n';
  });
}

/** The scenes split/images work on: a loaded list, or a detection run. */
async function scenesFor(command: string, video: string, values: ParsedValues, bar: ProgressBar, signal: AbortSignal): Promise<{ scenes: import('../api/scene-files.js').SceneSpan[]; frameRate: number }> {
  if (typeof values['scenes'] === 'string') {
    for (const name of ['detector', 'threshold', 'min-scene-len', 'start', 'end', 'duration']) if (values[name] !== undefined) throw new UsageError(`--${name} does not apply with --scenes (the list is used as is)`, command);
    const { loadSceneList } = await import('./scene-list.js');
    const [scenes, probed] = await Promise.all([loadSceneList(values['scenes']), probe(video, { signal })]);
    return { scenes, frameRate: probed.stream.frame_rate };
  }
  const detectors = detectorNames(command, values['detector'], false);
  const options = detectionOptions(command, values);
  if (detectors !== undefined) options.detector = detectors[0]!;
  const result = await detectScenes(video, { ...options, ...(await resolveTimes(command, video, timeArgs(command, values), signal)), signal, onProgress: (p) => bar.update(p.percent, p.currentStep, { done: p.frames, name: 'frames' }) });
  return { scenes: result.scenes, frameRate: result.frame_rate };
}

async function splitCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const parsed = parseCommand(SPLIT, argv);
  if (parsed === null) return help(io, SPLIT);
  const { values, positionals } = parsed;
  const video = oneVideo(SPLIT, positionals);
  timeArgs('split', values);
  detectorNames('split', values['detector'], false);
  const crf = values['crf'] !== undefined ? numberArg('split', 'crf', values['crf'], 0, 51, true) : undefined;
  if (crf !== undefined && values['reencode'] !== true) throw new UsageError('--crf applies with --reencode', 'split');
  const { splitVideo } = await import('../api/scene-files.js');
  const bar = progressBar(io, values['progress'] === true);
  return runCommand(io, bar, debug, undefined, async (signal) => {
    const { scenes } = await scenesFor('split', video, values, bar, signal);
    const files = await splitVideo(video, scenes, {
      signal,
      reencode: values['reencode'] === true,
      ...(crf !== undefined ? { crf } : {}),
      ...(typeof values['output-dir'] === 'string' ? { outputDir: values['output-dir'] } : {}),
      ...(typeof values['filename'] === 'string' ? { template: values['filename'] } : {}),
      onProgress: (p) => bar.update(p.percent, p.currentStep, { done: p.done, name: 'scenes' }),
    });
    return files.join('\n') + '\n';
  });
}

async function imagesCommand(argv: string[], io: CliIO, debug: boolean): Promise<number> {
  const parsed = parseCommand(IMAGES, argv);
  if (parsed === null) return help(io, IMAGES);
  const { values, positionals } = parsed;
  const video = oneVideo(IMAGES, positionals);
  timeArgs('images', values);
  detectorNames('images', values['detector'], false);
  const count = values['num-images'] !== undefined ? numberArg('images', 'num-images', values['num-images'], 1, 100, true) : 3;
  const width = values['width'] !== undefined ? numberArg('images', 'width', values['width'], 16, 8192, true) : undefined;
  const height = values['height'] !== undefined ? numberArg('images', 'height', values['height'], 16, 8192, true) : undefined;
  const quality = values['quality'] !== undefined ? numberArg('images', 'quality', values['quality'], 1, 100, true) : undefined;
  const rawFormat = (values['image-format'] as string | undefined) ?? 'jpeg';
  const format = rawFormat === 'jpg' ? 'jpeg' : rawFormat;
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp') throw new UsageError(`--image-format must be jpeg, png or webp, got ${JSON.stringify(rawFormat)}${didYouMean(rawFormat, ['jpeg', 'png', 'webp'])}`, 'images');
  const { saveSceneImages } = await import('../api/scene-files.js');
  const bar = progressBar(io, values['progress'] === true);
  return runCommand(io, bar, debug, undefined, async (signal) => {
    const { scenes, frameRate } = await scenesFor('images', video, values, bar, signal);
    const files = await saveSceneImages(video, scenes, {
      signal,
      frameRate,
      count,
      format,
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      ...(quality !== undefined ? { quality } : {}),
      ...(typeof values['output-dir'] === 'string' ? { outputDir: values['output-dir'] } : {}),
      ...(typeof values['filename'] === 'string' ? { template: values['filename'] } : {}),
      onProgress: (p) => bar.update(p.percent, p.currentStep, { done: p.done, name: 'scenes' }),
    });
    return files.flat().join('\n') + '\n';
  });
}

async function infoCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(INFO, argv);
  if (parsed === null) return help(io, INFO);
  const { gatherInfo, infoText } = await import('./info-command.js');
  const info = await gatherInfo(io.env, VERSION, parsed.values['models'] as string | undefined);
  await writeStdout(io, parsed.values['json'] === true ? JSON.stringify(info, null, 2) + '\n' : infoText(info));
  return EXIT.OK;
}

async function help(io: CliIO, spec: CommandSpec): Promise<number> {
  await writeStdout(io, commandHelp(spec));
  return EXIT.OK;
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
        const topic = command === 'help' ? rest[0] : undefined;
        if (topic !== undefined && topic in SPECS) return await help(io, SPECS[topic]!);
        if (topic !== undefined && topic !== 'bench' && topic !== 'models' && !(LIBRARY_COMMANDS as readonly string[]).includes(topic)) throw new UsageError(`unknown command "${topic}"${didYouMean(topic, COMMAND_NAMES)}`);
        if (topic !== undefined) return await main([topic, '--help'], io);
        const { LIBRARY_HELP } = await import('./library-commands.js');
        (command === undefined ? io.stderr : io.stdout).write(HELP + '\n' + LIBRARY_HELP);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      }
      case '--version':
      case '-v':
      case 'version':
        await writeStdout(io, VERSION + '\n');
        return EXIT.OK;
      case 'detect':
        return await detectCommand(rest, io, debug);
      case 'analyze':
        return await analyzeCommand(rest, io, debug);
      case 'split':
        return await splitCommand(rest, io, debug);
      case 'images':
        return await imagesCommand(rest, io, debug);
      case 'info':
        return await infoCommand(rest, io);
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
      default: {
        const alias: Record<string, string> = { 'split-video': 'split', 'save-images': 'images', 'detect-content': 'detect', analyse: 'analyze' };
        const hint = alias[command] !== undefined ? `; did you mean "${alias[command]}"?` : didYouMean(command.replace(/^-+/, ''), COMMAND_NAMES);
        throw new UsageError(`unknown command "${command}"${hint}`);
      }
    }
  } catch (error) {
    return reportError(io, error, debug, command !== undefined && command in SPECS ? { command } : {});
  }
}
