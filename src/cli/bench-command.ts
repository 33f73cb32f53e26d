/**
 * `scenescope bench <dataset-dir>`: run detection on every annotated video of a dataset and score it against
 * the ground truth (precision, recall, F1 at several tolerances, per transition kind, false boundaries on
 * distractors), print the table (or JSON lines), and optionally write the visual HTML report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InputError, ScenescopeError } from '../errors.js';
import { readDataset, DATASET_FORMATS, type DatasetFormat } from '../bench/annotations.js';
import { evaluateClip, summarize, checkTargets, scores, DEFAULT_TOLERANCES, DEFAULT_GRADUAL_SLACK, TARGET_SETS, type ClipEvaluation, type MatchOptions, type Summary, type TargetSet } from '../bench/metrics.js';
import { findPredictions, readPrediction, type PredictionSource, type PredictionUnit } from '../bench/predictions.js';
import { extractThumbnails, renderReport, thumbnailFrames, type ReportClip, type ReportDetector, type ReportScoreTrack } from '../bench/report.js';
import { TRUTH_KINDS, DISTRACTOR_KINDS, type DatasetEntry, type DetectedBoundary } from '../bench/types.js';
import { progressBar, reportError, UsageError, type CliIO } from './io.js';

/** What the bench needs from a detection result (detectScenes' result fits). */
export interface BenchDetectResult {
  frame_count: number;
  frame_rate: number;
  boundaries: readonly DetectedBoundary[];
  scores?: readonly ReportScoreTrack[] | undefined;
}

/** The detection function the bench calls (detectScenes by default). */
export type BenchDetect = (
  file: string,
  options: { detector?: string; statsFile?: string; signal?: AbortSignal; onProgress?: (p: { percent: number }) => void },
) => Promise<BenchDetectResult>;

/** Frame rate and count of a video (for predictions given in seconds, and the report's time axis). */
export type BenchProbe = (file: string, signal: AbortSignal) => Promise<{ frame_rate: number | undefined; frame_count: number | undefined }>;

/** Injectable dependencies, for tests. */
export interface BenchDeps {
  detect?: BenchDetect | undefined;
  probe?: BenchProbe | undefined;
  signal?: AbortSignal | undefined;
}

const USAGE = `Usage: scenescope bench <dataset-dir> [options]

Run detection on every annotated video of a dataset, or read other tools' outputs, and score them
against the ground truth with one matcher.

Options:
  --format <name>        annotation format: ${DATASET_FORMATS.join(', ')} (default auto:
                         truth when the folder holds a truth.json, else scenescope)
  --detector <name,...>  detector(s) to run (default: the library's default; none when only
                         --predictions are given)
  --predictions [name=]<path>
                         score another tool's output: a folder of per-video files matched by
                         name (PySceneDetect <video>-Scenes.csv, TransNetV2 <video>.scenes.txt,
                         JSON lists of frames or times) or one JSON file mapping video names to
                         lists; repeat to compare several tools side by side
  --unit <frames|seconds|auto>
                         how bare numbers in JSON predictions are read (default auto: all
                         integers are frames, else seconds)
  --tolerance <list>     cut tolerances in frames (default 0,1,2; the dataset's own cut
                         tolerance, truth.json matching.cut_tolerance_frames, is always added)
  --score-uncertain      count transitions marked uncertain like the others (default: they are
                         matched but neither a hit nor a miss, and reported apart)
  --excuse-uncertain     leave detections inside non-transition spans marked uncertain out of
                         the false positives (default: counted; the report says how many)
  --targets <name>       acceptance targets: ${TARGET_SETS.join(', ')} (default issue8-real for
                         truth datasets, issue8-corpus for the realistic corpus, else issue3)
  --frame-offset <n>     add n frames to every annotated frame (TransNetV2 uses 1 for BBC)
  --limit <n>            only the first n videos
  --stats-dir <dir>      keep each video's per-frame features in <dir> (created) and reuse them:
                         several detectors, or a second run, decode each video once
  --html <file>          write the visual report (self-contained HTML)
  --json                 print JSON lines instead of tables
  --check                exit 1 when the targets are not met (at the headline tolerance)
  -h, --help             show this help
`;

/** Headline tolerance when the dataset states none: cuts within 1 frame (issue 3's rule, and truth.json's). */
const DEFAULT_HEADLINE = 1;

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]!) : String(cell).padStart(widths[c]!))).join('  ')).join('\n') + '\n';
}

function textReport(detector: string, entries: readonly DatasetEntry[], summaries: readonly Summary[], perClip: readonly ClipEvaluation[], headlineTolerance: number, gradualSlack: number, targetSet: TargetSet, excuse: boolean): string {
  const headline = summaries.find((s) => s.tolerance === headlineTolerance) ?? summaries[0]!;
  const truth = entries.reduce((n, e) => n + e.truth.length, 0);
  const distractors = entries.reduce((n, e) => n + e.distractors.length, 0);
  let out = `\ndetector ${detector}: ${headline.clips} clips, ${truth} transitions, ${distractors} distractors\n`;
  out += `matching: cuts within ${headlineTolerance} frame(s), gradual transitions inside their span +-${gradualSlack}, one-to-one, closest first\n`;
  if (headline.uncertain.truth > 0) out += `uncertain transitions: ${headline.uncertain.truth} left out of the counts (${headline.uncertain.found} found); --score-uncertain counts them\n`;
  if (excuse) out += `--excuse-uncertain: ${headline.excused} detection(s) inside uncertain non-transition spans left out of the false positives\n`;
  out += `\nper clip (tolerance ${headlineTolerance})\n`;
  out += table([
    ['clip', 'truth', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1'],
    ...perClip.map((e, i) => {
      const s = scores(e.all);
      const none = e.all.tp + e.all.fp + e.all.fn === 0;
      return [entries[i]!.name, e.all.tp + e.all.fn, e.all.tp, e.all.fp, e.all.fn, none ? '-' : fmt(s.precision), none ? '-' : fmt(s.recall), none ? '-' : fmt(s.f1)];
    }),
  ]);
  out += `\npooled\n`;
  out += table([['tolerance', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'cut offset'], ...summaries.map((s) => [s.tolerance, s.all.tp, s.all.fp, s.all.fn, fmt(s.all.precision), fmt(s.all.recall), fmt(s.all.f1), fmt(s.mean_cut_offset, 2)])]);
  out += `\nper kind (tolerance ${headline.tolerance}; gradual: span +-${gradualSlack} frames); kind accuracy ${fmt(headline.kind_accuracy)}\n`;
  out += table([
    ['kind', 'truth', 'found', 'missed', 'FP', 'precision', 'recall', 'F1', 'label ok'],
    ...TRUTH_KINDS.filter((k) => headline.kinds[k].truth > 0 || headline.kinds[k].fp > 0).map((k) => {
      const c = headline.kinds[k];
      return [k, c.truth, c.tp, c.fn, c.fp, fmt(c.precision), fmt(c.recall), fmt(c.f1), c.tp === 0 ? '-' : fmt(c.kind_correct / c.tp)];
    }),
  ]);
  if (headline.distractor_total.count > 0) {
    out += `\ndistractors\n`;
    out += table([
      ['kind', 'count', 'false', 'fired'],
      ...DISTRACTOR_KINDS.filter((k) => headline.distractors[k].count > 0).map((k) => [k, headline.distractors[k].count, headline.distractors[k].false_boundaries, headline.distractors[k].fired]),
      ['all', headline.distractor_total.count, headline.distractor_total.false_boundaries, headline.distractor_total.fired],
    ]);
  }
  const targets = checkTargets(headline, targetSet);
  out += `\ntargets (${targetSet}): ${targets.map((t) => `${t.name} ${t.name.startsWith('false boundaries on') ? t.value : fmt(t.value)} ${t.target} ${t.pass ? 'pass' : 'FAIL'}`).join('; ')}\n`;
  return out;
}

/** The comparison of every detector at the headline tolerance, one row each. */
function comparisonTable(detectors: readonly ReportDetector[], headlineTolerance: number): string {
  const kinds = TRUTH_KINDS.filter((k) => detectors.some((d) => (d.summaries.find((s) => s.tolerance === headlineTolerance) ?? d.summaries[0]!).kinds[k].truth > 0));
  let out = `\nall detectors side by side (tolerance ${headlineTolerance})\n`;
  out += table([
    ['detector', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', ...kinds.map((k) => `${k} R`), 'kind acc', 'distractor FP'],
    ...detectors.map((d) => {
      const s = d.summaries.find((x) => x.tolerance === headlineTolerance) ?? d.summaries[0]!;
      return [d.detector, s.all.tp, s.all.fp, s.all.fn, fmt(s.all.precision), fmt(s.all.recall), fmt(s.all.f1), ...kinds.map((k) => fmt(s.kinds[k].recall)), fmt(s.kind_accuracy), s.distractor_total.false_boundaries];
    }),
  ]);
  return out;
}

async function defaultProbe(file: string, signal: AbortSignal): Promise<{ frame_rate: number | undefined; frame_count: number | undefined }> {
  const { probe } = await import('../media/probe.js');
  const p = await probe(file, { signal });
  return { frame_rate: p.stream.frame_rate > 0 ? p.stream.frame_rate : undefined, frame_count: p.stream.nb_frames ?? undefined };
}

async function defaultDetect(): Promise<BenchDetect> {
  const mod = (await import('../api/detect.js')) as unknown as { detectScenes: BenchDetect };
  return mod.detectScenes;
}

/**
 * Run `scenescope bench`. Returns the exit code: 0 done, 1 a clip failed (or `--check` and a target missed),
 * 2 bad usage or unreadable dataset.
 */
export async function runBenchCommand(argv: string[], io: CliIO, deps: BenchDeps = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', default: 'auto' },
        'score-uncertain': { type: 'boolean', default: false },
        'excuse-uncertain': { type: 'boolean', default: false },
        targets: { type: 'string' },
        detector: { type: 'string' },
        tolerance: { type: 'string', default: DEFAULT_TOLERANCES.join(',') },
        'frame-offset': { type: 'string', default: '0' },
        limit: { type: 'string' },
        'stats-dir': { type: 'string' },
        predictions: { type: 'string', multiple: true },
        unit: { type: 'string', default: 'auto' },
        html: { type: 'string' },
        json: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return reportError(io, new UsageError(`bench: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, 'bench'), false);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const usage = (message: string): number => reportError(io, new UsageError(`bench: ${message}`, 'bench'), false);
  if (positionals.length !== 1) return usage('expected one dataset folder');
  const dir = path.resolve(positionals[0]!);
  const format = values.format as DatasetFormat;
  if (!(DATASET_FORMATS as readonly string[]).includes(format)) return usage(`unknown --format ${JSON.stringify(values.format)}; use one of ${DATASET_FORMATS.join(', ')}`);
  const tolerances = values.tolerance.split(',').map((t) => Number(t.trim()));
  if (tolerances.some((t) => !Number.isInteger(t) || t < 0 || t > 100)) return usage(`--tolerance takes integers 0-100 separated by commas, not ${JSON.stringify(values.tolerance)}`);
  if (values.targets !== undefined && !(TARGET_SETS as readonly string[]).includes(values.targets)) return usage(`unknown --targets ${JSON.stringify(values.targets)}; use one of ${TARGET_SETS.join(', ')}`);
  const frameOffset = Number(values['frame-offset']);
  if (!Number.isInteger(frameOffset)) return usage(`--frame-offset takes an integer, not ${JSON.stringify(values['frame-offset'])}`);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit >= 1)) return usage(`--limit takes a positive integer, not ${JSON.stringify(values.limit)}`);
  const detectors: (string | undefined)[] = values.detector === undefined ? [undefined] : values.detector.split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (!['auto', 'frames', 'seconds'].includes(values.unit)) return usage(`--unit takes frames, seconds or auto, not ${JSON.stringify(values.unit)}`);
  const predictionSpecs: { name: string; path: string }[] = [];
  for (const p of values.predictions ?? []) {
    const m = /^([A-Za-z][\w.+-]*)=(.+)$/.exec(p);
    const where = path.resolve(m === null ? p : m[2]!);
    const name = m === null ? path.basename(where).replace(/\.(json|csv|txt)$/i, '') : m[1]!;
    if (predictionSpecs.some((s) => s.name === name)) return usage(`two --predictions are named ${JSON.stringify(name)}; name them with name=path`);
    predictionSpecs.push({ name, path: where });
  }

  const controller = new AbortController();
  const signal = deps.signal ?? controller.signal;
  const onSigint = (): void => controller.abort();
  if (deps.signal === undefined) process.once('SIGINT', onSigint);
  try {
    let entries: DatasetEntry[];
    try {
      entries = await readDataset(dir, format, { frameOffset, onWarning: (w) => io.stderr.write(`warning: ${w}\n`) });
    } catch (error) {
      if (error instanceof ScenescopeError) return usage(error.message);
      throw error;
    }
    entries = entries.slice(0, limit);
    const matching = entries.find((e) => e.matching !== undefined)?.matching;
    const HEADLINE = matching?.cut_tolerance_frames ?? DEFAULT_HEADLINE;
    const gradualSlack = matching?.gradual_tolerance_frames ?? DEFAULT_GRADUAL_SLACK;
    if (!tolerances.includes(HEADLINE)) tolerances.push(HEADLINE);
    tolerances.sort((a, b) => a - b);
    // Targets follow the dataset: real footage, the realistic corpus (schema v2), or the first corpus.
    const targetSet: TargetSet = (values.targets as TargetSet | undefined) ?? (matching !== undefined ? 'issue8-real' : entries.some((e) => e.schema === 'scenescope-corpus/2') ? 'issue8-corpus' : 'issue3');
    const excuse = values['excuse-uncertain'];
    const matchOptions = (tolerance: number): MatchOptions => ({ tolerance, gradualSlack, uncertainTruth: values['score-uncertain'] ? 'score' : 'ignore', excuseUncertain: excuse });
    for (const e of entries) for (const w of e.warnings) io.stderr.write(`warning: ${w}\n`);
    const statsDir = values['stats-dir'] === undefined ? undefined : path.resolve(values['stats-dir']);
    if (statsDir !== undefined) await mkdir(statsDir, { recursive: true });
    const unit = values.unit as PredictionUnit;

    // What to score: scenescope's detectors, then every --predictions source, each under its own name.
    interface Run {
      name: string;
      source: string;
      get: (entry: DatasetEntry, label: string) => Promise<BenchDetectResult & { warnings?: string[] }>;
    }
    const runs: Run[] = [];
    let detect: BenchDetect | undefined = deps.detect;
    const needDetectors = values.detector !== undefined || predictionSpecs.length === 0;
    if (needDetectors) {
      for (const detector of detectors) {
        runs.push({
          name: detector ?? 'default',
          source: `scenescope detector ${detector ?? '(default)'}`,
          get: async (entry, label) => {
            detect ??= await defaultDetect();
            const options: { detector?: string; statsFile?: string; signal?: AbortSignal; onProgress?: (p: { percent: number }) => void } = { signal, onProgress: (p) => bar.update(p.percent, label) };
            if (detector !== undefined) options.detector = detector;
            if (statsDir !== undefined) options.statsFile = path.join(statsDir, `${path.relative(dir, entry.video).replace(/[\\/]/g, '__')}.stats.csv`);
            return detect(entry.video, options);
          },
        });
      }
    }
    const facts = new Map<string, Promise<{ frame_rate: number | undefined; frame_count: number | undefined }>>();
    const videoFacts = (entry: DatasetEntry): Promise<{ frame_rate: number | undefined; frame_count: number | undefined }> => {
      if (entry.frame_rate !== undefined && entry.frame_count !== undefined) return Promise.resolve({ frame_rate: entry.frame_rate, frame_count: entry.frame_count });
      let p = facts.get(entry.video);
      if (p === undefined) {
        p = (deps.probe ?? defaultProbe)(entry.video, signal).then(
          (f) => ({ frame_rate: entry.frame_rate ?? f.frame_rate, frame_count: entry.frame_count ?? f.frame_count }),
          () => ({ frame_rate: entry.frame_rate, frame_count: entry.frame_count }),
        );
        facts.set(entry.video, p);
      }
      return p;
    };
    for (const spec of predictionSpecs) {
      let found: Map<string, PredictionSource>;
      try {
        found = await findPredictions(spec.path, entries.map((e) => e.video));
      } catch (error) {
        if (error instanceof ScenescopeError) return usage(error.message);
        throw error;
      }
      runs.push({
        name: spec.name,
        source: `predictions ${spec.path}`,
        get: async (entry) => {
          const src = found.get(entry.video);
          if (src === undefined) throw new InputError('FILE_NOT_FOUND', `no prediction in ${spec.path} for ${path.basename(entry.video)}`);
          const f = await videoFacts(entry);
          const read = readPrediction(src, f.frame_rate, unit);
          const last = read.boundaries.length === 0 ? 0 : read.boundaries[read.boundaries.length - 1]!.frame + 1;
          return { frame_count: f.frame_count ?? last, frame_rate: f.frame_rate ?? 25, boundaries: read.boundaries, warnings: read.warnings };
        },
      });
    }

    const bar = progressBar(io, !values.json);
    const reportClips: ReportClip[] = entries.map((entry) => ({ name: entry.name, video: entry.video, frame_count: entry.frame_count ?? 0, frame_rate: entry.frame_rate ?? 25, truth: entry.truth, distractors: entry.distractors, runs: [], thumbnails: new Map() }));
    const reportDetectors: ReportDetector[] = [];
    let failed = false;
    let targetsMissed = false;

    for (const run of runs) {
      const name = run.name;
      const perTolerance = new Map<number, ClipEvaluation[]>(tolerances.map((t) => [t, []]));
      for (const [i, entry] of entries.entries()) {
        const label = `${name} ${i + 1}/${entries.length} ${entry.name}`;
        bar.update(0, label);
        const started = performance.now();
        let result: BenchDetectResult & { warnings?: string[] };
        try {
          result = await run.get(entry, label);
        } catch (error) {
          if (signal.aborted) throw error;
          failed = true;
          bar.done();
          const message = error instanceof Error ? error.message : String(error);
          io.stderr.write(`${entry.name}: ${name}: ${message}\n`);
          if (values.json) io.stdout.write(JSON.stringify({ type: 'clip', detector: name, name: entry.name, video: entry.video, error: message }) + '\n');
          // A clip without result still counts: its transitions are misses, so a failure cannot raise a score.
          for (const t of tolerances) perTolerance.get(t)!.push(evaluateClip(entry.truth, [], entry.distractors, matchOptions(t)));
          reportClips[i]!.runs.push({ detector: name, detections: [], scores: [], evaluation: evaluateClip(entry.truth, [], entry.distractors, matchOptions(HEADLINE)), seconds: 0, error: message });
          continue;
        }
        const seconds = (performance.now() - started) / 1000;
        bar.done();
        for (const w of result.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
        if (entry.frame_count !== undefined && entry.frame_count !== result.frame_count && runs.indexOf(run) === 0) {
          io.stderr.write(`warning: ${entry.name}: the annotation says ${entry.frame_count} frames, ${result.frame_count} were decoded\n`);
        }
        const detections = result.boundaries.map((b) => ({ frame: b.frame, kind: b.kind, start_frame: b.start_frame, end_frame: b.end_frame, confidence: b.confidence }));
        const evaluations = new Map<number, ClipEvaluation>();
        for (const t of tolerances) {
          const e = evaluateClip(entry.truth, detections, entry.distractors, matchOptions(t));
          evaluations.set(t, e);
          perTolerance.get(t)!.push(e);
        }
        const head = evaluations.get(HEADLINE)!;
        if (values.json) {
          io.stdout.write(
            JSON.stringify({
              type: 'clip',
              detector: name,
              name: entry.name,
              video: entry.video,
              frames: result.frame_count,
              seconds: Number(seconds.toFixed(3)),
              fps: Number((result.frame_count / Math.max(seconds, 1e-9)).toFixed(1)),
              truth: entry.truth.length,
              detected: detections.length,
              tolerances: Object.fromEntries(tolerances.map((t) => [t, evaluations.get(t)!.all])),
              headline: { tolerance: HEADLINE, ...scores(head.all) },
              uncertain: head.uncertain,
              excused: head.excused.map((k) => detections[k]!.frame),
              missed: head.misses.map((j) => ({ kind: entry.truth[j]!.kind, frame: entry.truth[j]!.frame, start_frame: entry.truth[j]!.start_frame, end_frame: entry.truth[j]!.end_frame })),
              false_positives: head.false_positives.map((k) => ({ kind: detections[k]!.kind, frame: detections[k]!.frame })),
            }) + '\n',
          );
        }
        const clip = reportClips[i]!;
        if (result.frame_count > 0) clip.frame_count = result.frame_count;
        if (result.frame_rate > 0 && entry.frame_rate === undefined) clip.frame_rate = result.frame_rate;
        clip.runs.push({ detector: name, detections, scores: (result.scores ?? []).map((t) => ({ name: t.name, values: t.values, threshold: t.threshold })), evaluation: head, seconds });
      }
      const summaries = tolerances.map((t) => summarize(perTolerance.get(t)!, t));
      const headline = summaries.find((s) => s.tolerance === HEADLINE)!;
      const targets = checkTargets(headline, targetSet);
      reportDetectors.push({ detector: name, source: run.source, summaries, targets });
      if (targets.some((t) => !t.pass)) targetsMissed = true;
      if (values.json) {
        for (const s of summaries) io.stdout.write(JSON.stringify({ type: 'summary', detector: name, source: run.source, headline: s.tolerance === HEADLINE, gradual_slack: gradualSlack, excuse_uncertain: excuse, ...s }) + '\n');
        io.stdout.write(JSON.stringify({ type: 'targets', detector: name, set: targetSet, tolerance: HEADLINE, targets }) + '\n');
      } else io.stdout.write(textReport(name, entries, summaries, perTolerance.get(HEADLINE)!, HEADLINE, gradualSlack, targetSet, excuse));
    }
    if (!values.json && reportDetectors.length > 1) io.stdout.write(comparisonTable(reportDetectors, HEADLINE));

    if (values.html !== undefined) {
      for (const clip of reportClips) {
        try {
          clip.thumbnails = await extractThumbnails(clip.video, thumbnailFrames(clip), { signal });
        } catch (error) {
          io.stderr.write(`warning: ${clip.name}: no thumbnails (${(error as Error).message})\n`);
        }
      }
      const html = renderReport({
        title: `scenescope bench: ${path.basename(dir)}`,
        notes: [
          `scenescope bench ${argv.join(' ')}`,
          `dataset ${dir} (format ${format}), ${entries.length} videos; ${reportDetectors.map((r) => r.detector).join(', ')}`,
          `matching: cuts within ${HEADLINE} frame(s) at the headline tolerance, gradual transitions inside their span +-${gradualSlack}, one-to-one, closest first${excuse ? '; detections inside uncertain non-transitions excused' : ''}`,
          `generated ${new Date().toISOString()}`,
        ],
        headlineTolerance: HEADLINE,
        detectors: reportDetectors,
        clips: reportClips,
      });
      await writeFile(values.html, html);
      io.stderr.write(`report written to ${values.html}\n`);
    }
    if (failed) return 1;
    return values.check && targetsMissed ? 1 : 0;
  } finally {
    if (deps.signal === undefined) process.off('SIGINT', onSigint);
  }
}
