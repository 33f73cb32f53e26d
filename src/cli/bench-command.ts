/**
 * `scenescope bench <dataset-dir>`: run detection on every annotated video of a dataset and score it against
 * the ground truth (precision, recall, F1 at several tolerances, per transition kind, false boundaries on
 * distractors), print the table (or JSON lines), and optionally write the visual HTML report.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ScenescopeError } from '../errors.js';
import { readDataset, DATASET_FORMATS, type DatasetFormat } from '../bench/annotations.js';
import { evaluateClip, summarize, checkTargets, DEFAULT_TOLERANCES, type ClipEvaluation, type Summary } from '../bench/metrics.js';
import { extractThumbnails, renderReport, thumbnailFrames, type ReportClip, type ReportScoreTrack } from '../bench/report.js';
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
  options: { detector?: string; signal?: AbortSignal; onProgress?: (p: { percent: number }) => void },
) => Promise<BenchDetectResult>;

/** Injectable dependencies, for tests. */
export interface BenchDeps {
  detect?: BenchDetect | undefined;
  signal?: AbortSignal | undefined;
}

const USAGE = `Usage: scenescope bench <dataset-dir> [options]

Run detection on every annotated video of a dataset and score it against the ground truth.

Options:
  --format <name>        annotation format: ${DATASET_FORMATS.join(', ')} (default scenescope)
  --detector <name,...>  detector(s) to run (default: the library's default)
  --tolerance <list>     cut tolerances in frames (default 0,1,2)
  --frame-offset <n>     add n frames to every annotated frame (TransNetV2 uses 1 for BBC)
  --limit <n>            only the first n videos
  --html <file>          write the visual report (self-contained HTML)
  --json                 print JSON lines instead of tables
  --check                exit 1 when issue 3's targets are not met (tolerance 1)
  -h, --help             show this help
`;

/** Headline tolerance: cuts within 1 frame (issue 3's rule). */
const HEADLINE = 1;

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]!) : String(cell).padStart(widths[c]!))).join('  ')).join('\n') + '\n';
}

function textReport(detector: string, entries: readonly DatasetEntry[], summaries: readonly Summary[]): string {
  const headline = summaries.find((s) => s.tolerance === HEADLINE) ?? summaries[0]!;
  const truth = entries.reduce((n, e) => n + e.truth.length, 0);
  const distractors = entries.reduce((n, e) => n + e.distractors.length, 0);
  let out = `\ndetector ${detector}: ${headline.clips} clips, ${truth} transitions, ${distractors} distractors\n\n`;
  out += table([['tolerance', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'cut offset'], ...summaries.map((s) => [s.tolerance, s.all.tp, s.all.fp, s.all.fn, fmt(s.all.precision), fmt(s.all.recall), fmt(s.all.f1), fmt(s.mean_cut_offset, 2)])]);
  out += `\nper kind (tolerance ${headline.tolerance}; gradual: span +-2 frames)\n`;
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
  const targets = checkTargets(headline);
  out += `\ntargets: ${targets.map((t) => `${t.name} ${fmt(t.value)} ${t.target} ${t.pass ? 'pass' : 'FAIL'}`).join('; ')}\n`;
  return out;
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
        format: { type: 'string', default: 'scenescope' },
        detector: { type: 'string' },
        tolerance: { type: 'string', default: DEFAULT_TOLERANCES.join(',') },
        'frame-offset': { type: 'string', default: '0' },
        limit: { type: 'string' },
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
  if (!tolerances.includes(HEADLINE)) tolerances.push(HEADLINE);
  tolerances.sort((a, b) => a - b);
  const frameOffset = Number(values['frame-offset']);
  if (!Number.isInteger(frameOffset)) return usage(`--frame-offset takes an integer, not ${JSON.stringify(values['frame-offset'])}`);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit >= 1)) return usage(`--limit takes a positive integer, not ${JSON.stringify(values.limit)}`);
  const detectors: (string | undefined)[] = values.detector === undefined ? [undefined] : values.detector.split(',').map((d) => d.trim()).filter((d) => d !== '');

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
    for (const e of entries) for (const w of e.warnings) io.stderr.write(`warning: ${w}\n`);
    const detect = deps.detect ?? (await defaultDetect());
    const bar = progressBar(io, !values.json);
    const reportClips: ReportClip[] = [];
    const reportSummaries: { detector: string; summaries: Summary[] }[] = [];
    let failed = false;
    let targetsMissed = false;

    for (const detector of detectors) {
      const name = detector ?? 'default';
      const perTolerance = new Map<number, ClipEvaluation[]>(tolerances.map((t) => [t, []]));
      for (const [i, entry] of entries.entries()) {
        const label = `${name} ${i + 1}/${entries.length} ${entry.name}`;
        bar.update(0, label);
        const started = performance.now();
        let result: BenchDetectResult;
        try {
          const options: { detector?: string; signal?: AbortSignal; onProgress?: (p: { percent: number }) => void } = { signal, onProgress: (p) => bar.update(p.percent, label) };
          if (detector !== undefined) options.detector = detector;
          result = await detect(entry.video, options);
        } catch (error) {
          if (signal.aborted) throw error;
          failed = true;
          bar.done();
          const message = error instanceof Error ? error.message : String(error);
          io.stderr.write(`${entry.name}: ${message}\n`);
          if (values.json) io.stdout.write(JSON.stringify({ type: 'clip', detector: name, name: entry.name, video: entry.video, error: message }) + '\n');
          if (values.html !== undefined) {
            reportClips.push({ name: `${entry.name} · ${name}`, video: entry.video, frame_count: entry.frame_count ?? 0, frame_rate: entry.frame_rate ?? 25, truth: entry.truth, distractors: entry.distractors, detections: [], scores: [], evaluation: evaluateClip(entry.truth, [], entry.distractors, { tolerance: HEADLINE }), thumbnails: new Map(), seconds: 0, error: message });
          }
          continue;
        }
        const seconds = (performance.now() - started) / 1000;
        bar.done();
        if (entry.frame_count !== undefined && entry.frame_count !== result.frame_count) {
          io.stderr.write(`warning: ${entry.name}: the annotation says ${entry.frame_count} frames, ${result.frame_count} were decoded\n`);
        }
        const detections = result.boundaries.map((b) => ({ frame: b.frame, kind: b.kind, start_frame: b.start_frame, end_frame: b.end_frame, confidence: b.confidence }));
        const evaluations = new Map<number, ClipEvaluation>();
        for (const t of tolerances) {
          const e = evaluateClip(entry.truth, detections, entry.distractors, { tolerance: t });
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
              missed: head.misses.map((j) => ({ kind: entry.truth[j]!.kind, frame: entry.truth[j]!.frame, start_frame: entry.truth[j]!.start_frame, end_frame: entry.truth[j]!.end_frame })),
              false_positives: head.false_positives.map((k) => ({ kind: detections[k]!.kind, frame: detections[k]!.frame })),
            }) + '\n',
          );
        }
        if (values.html !== undefined) {
          const clip = { truth: entry.truth, detections, frame_count: result.frame_count };
          let thumbnails = new Map<number, string>();
          try {
            thumbnails = await extractThumbnails(entry.video, thumbnailFrames(clip), { signal });
          } catch (error) {
            io.stderr.write(`warning: ${entry.name}: no thumbnails (${(error as Error).message})\n`);
          }
          reportClips.push({
            name: detectors.length > 1 ? `${entry.name} · ${name}` : entry.name,
            video: entry.video,
            frame_count: result.frame_count,
            frame_rate: result.frame_rate,
            truth: entry.truth,
            distractors: entry.distractors,
            detections,
            scores: (result.scores ?? []).map((t) => ({ name: t.name, values: t.values, threshold: t.threshold })),
            evaluation: head,
            thumbnails,
            seconds,
          });
        }
      }
      const summaries = tolerances.map((t) => summarize(perTolerance.get(t)!, t));
      reportSummaries.push({ detector: name, summaries });
      const headline = summaries.find((s) => s.tolerance === HEADLINE)!;
      const targets = checkTargets(headline);
      if (targets.some((t) => !t.pass)) targetsMissed = true;
      if (values.json) {
        for (const s of summaries) io.stdout.write(JSON.stringify({ type: 'summary', detector: name, ...s }) + '\n');
        io.stdout.write(JSON.stringify({ type: 'targets', detector: name, tolerance: HEADLINE, targets }) + '\n');
      } else io.stdout.write(textReport(name, entries, summaries));
    }

    if (values.html !== undefined) {
      const first = reportSummaries[0]!;
      const html = renderReport({
        title: `scenescope bench: ${path.basename(dir)}`,
        notes: [
          `scenescope bench ${argv.join(' ')}`,
          `dataset ${dir} (format ${format}), ${entries.length} videos; detector ${reportSummaries.map((r) => r.detector).join(', ')}`,
          `generated ${new Date().toISOString()}`,
        ],
        summaries: first.summaries,
        headlineTolerance: HEADLINE,
        targets: format === 'scenescope' ? checkTargets(first.summaries.find((s) => s.tolerance === HEADLINE)!) : [],
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
