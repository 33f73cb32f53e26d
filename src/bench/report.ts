/**
 * The visual benchmark report: one self-contained HTML file (inline CSS and SVG, thumbnails as JPEG data URIs,
 * no script, no network). Every detector (scenescope's, or another tool's predictions) is shown side by side:
 * a summary table, recall by kind, F1/precision/recall curves against the cut tolerance and a precision-recall
 * plot, false boundaries on distractors, per-clip F1; then, per clip, the score tracks of the first detector
 * that has them, the ground truth, one row of detections per detector, and before/after thumbnails at every
 * truth (saying which detectors found it) and every false detection.
 *
 * Score tracks are drawn relative to their own threshold (value / threshold), so tracks on different scales
 * share one plot and one dashed threshold line at 1.
 */
import { spawnTool, fileUrl, resolveFfmpegPaths, safeInputArgs, type FfmpegPathOptions } from '../media/ffmpeg.js';
import { DISTRACTOR_KINDS, TRUTH_KINDS, type DetectedBoundary, type TruthDistractor, type TruthTransition } from './types.js';
import { scores, type ClipEvaluation, type Summary, type TargetCheck } from './metrics.js';

/** A per-frame score track, as detectScenes exposes it. */
export interface ReportScoreTrack {
  name: string;
  values: ArrayLike<number>;
  threshold: number;
}

/** One detector's (or prediction source's) result on one clip. */
export interface ReportRun {
  detector: string;
  detections: readonly DetectedBoundary[];
  scores: readonly ReportScoreTrack[];
  /** The evaluation at the report's headline tolerance. */
  evaluation: ClipEvaluation;
  /** Seconds detection took (0 for predictions read from files). */
  seconds: number;
  /** An error instead of a result. */
  error?: string | undefined;
}

/** One clip of the report, with every detector's result on it. */
export interface ReportClip {
  name: string;
  video: string;
  frame_count: number;
  frame_rate: number;
  truth: readonly TruthTransition[];
  distractors: readonly TruthDistractor[];
  /** One per detector, in the order of {@link ReportInput.detectors}. */
  runs: ReportRun[];
  /** Frame index to JPEG data URI. */
  thumbnails: ReadonlyMap<number, string>;
}

/** One detector's summaries over the dataset. */
export interface ReportDetector {
  detector: string;
  /** Where its detections came from ("scenescope detector content", "predictions /tmp/psd"). */
  source: string;
  /** Summaries at each tolerance. */
  summaries: readonly Summary[];
  /** Its acceptance targets at the headline tolerance. */
  targets: readonly TargetCheck[];
}

/** The whole report. */
export interface ReportInput {
  title: string;
  /** Free text lines under the title (command, dataset, detectors, date). */
  notes: string[];
  /** The tolerance the tables and per-clip marks use. */
  headlineTolerance: number;
  detectors: readonly ReportDetector[];
  clips: readonly ReportClip[];
}

const KIND_COLORS: Record<string, string> = { cut: '#d62728', dissolve: '#1f77b4', fade: '#7f3fbf', wipe: '#2ca02c', gradual: '#17becf' };
const TRACK_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const pct = (v: number): string => (Number.isFinite(v) ? (v * 100).toFixed(1) : '-');

function headlineOf(d: ReportDetector, tolerance: number): Summary {
  return d.summaries.find((s) => s.tolerance === tolerance) ?? d.summaries[0]!;
}

function detectorColor(k: number): string {
  return TRACK_COLORS[k % TRACK_COLORS.length]!;
}

function detectorCell(d: ReportDetector, k: number): string {
  return `<td><span class="dot" style="background:${detectorColor(k)}"></span><b>${esc(d.detector)}</b><div class="src">${esc(d.source)}</div></td>`;
}

/** Every detector in one table at the headline tolerance, best F1 first marked. */
function summaryTable(detectors: readonly ReportDetector[], tolerance: number): string {
  const best = Math.max(...detectors.map((d) => headlineOf(d, tolerance).all.f1));
  const rows = detectors
    .map((d, k) => {
      const s = headlineOf(d, tolerance);
      const targets = d.targets.map((t) => `<span class="${t.pass ? 'pass' : 'fail'}" title="${esc(`${t.name} ${t.target}`)}">${esc(t.name)}</span>`).join(' ');
      return `<tr>${detectorCell(d, k)}<td>${s.all.tp}</td><td>${s.all.fp}</td><td>${s.all.fn}</td><td>${pct(s.all.precision)}</td><td>${pct(s.all.recall)}</td><td class="${s.all.f1 === best ? 'best' : ''}"><b>${pct(s.all.f1)}</b></td><td>${pct(s.kind_accuracy)}</td><td>${s.distractor_total.false_boundaries}</td><td>${Number.isFinite(s.mean_cut_offset) ? s.mean_cut_offset.toFixed(2) : '-'}</td><td class="targets">${targets}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>detector</th><th>TP</th><th>FP</th><th>FN</th><th>precision %</th><th>recall %</th><th>F1 %</th><th>kind accuracy %</th><th>false on distractors</th><th>mean cut offset</th><th>targets</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** F1 of every detector at every tolerance. */
function toleranceTable(detectors: readonly ReportDetector[]): string {
  const tolerances = [...new Set(detectors.flatMap((d) => d.summaries.map((s) => s.tolerance)))].sort((a, b) => a - b);
  const rows = detectors
    .map((d, k) => `<tr>${detectorCell(d, k)}${tolerances.map((t) => {
      const s = d.summaries.find((x) => x.tolerance === t);
      return `<td>${s === undefined ? '-' : `${pct(s.all.f1)} <span class="muted">(P ${pct(s.all.precision)} R ${pct(s.all.recall)})</span>`}</td>`;
    }).join('')}</tr>`)
    .join('');
  return `<table><thead><tr><th>F1 % by cut tolerance</th>${tolerances.map((t) => `<th>${t} frame${t === 1 ? '' : 's'}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** Recall of every detector on every kind present, with found/total and how often the label agreed. */
function kindTable(detectors: readonly ReportDetector[], tolerance: number): string {
  const kinds = TRUTH_KINDS.filter((k) => detectors.some((d) => headlineOf(d, tolerance).kinds[k].truth > 0));
  const rows = detectors
    .map((d, k) => {
      const s = headlineOf(d, tolerance);
      return `<tr>${detectorCell(d, k)}${kinds
        .map((kind) => {
          const c = s.kinds[kind];
          return `<td class="${c.recall < 0.85 ? 'low' : ''}"><b>${pct(c.recall)}</b> <span class="muted">${c.tp}/${c.truth}${c.tp > 0 ? `, label ${pct(c.kind_correct / c.tp)}` : ''}${c.fp > 0 ? `, ${c.fp} FP labelled so` : ''}</span></td>`;
        })
        .join('')}</tr>`;
    })
    .join('');
  return `<table><thead><tr><th>recall % by kind</th>${kinds.map((kind) => `<th><span class="dot" style="background:${KIND_COLORS[kind]}"></span>${kind}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** False boundaries on each distractor kind, per detector. */
function distractorTable(detectors: readonly ReportDetector[], tolerance: number): string {
  const first = headlineOf(detectors[0]!, tolerance);
  if (first.distractor_total.count === 0) return '<p class="muted">No annotated distractors.</p>';
  const kinds = DISTRACTOR_KINDS.filter((k) => first.distractors[k].count > 0);
  const rows = detectors
    .map((d, k) => {
      const s = headlineOf(d, tolerance);
      return `<tr>${detectorCell(d, k)}${kinds.map((kind) => `<td class="${s.distractors[kind].false_boundaries > 0 ? 'low' : ''}">${s.distractors[kind].false_boundaries}</td>`).join('')}<td><b>${s.distractor_total.false_boundaries}</b></td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>false boundaries on distractors</th>${kinds.map((kind) => `<th>${kind} (${first.distractors[kind].count})</th>`).join('')}<th>all (${first.distractor_total.count})</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The curves: F1, precision and recall of every detector against the cut tolerance (left), and every
 * detector as a point in precision-recall space with F1 iso-lines (right).
 */
export function curvesSvg(detectors: readonly ReportDetector[], tolerance: number): string {
  const W = 460;
  const H = 300;
  const pad = { l: 44, r: 12, t: 22, b: 34 };
  const pw = W - pad.l - pad.r;
  const ph = H - pad.t - pad.b;
  const tolerances = [...new Set(detectors.flatMap((d) => d.summaries.map((s) => s.tolerance)))].sort((a, b) => a - b);
  const tMax = Math.max(1, tolerances[tolerances.length - 1] ?? 1);
  const tMin = tolerances[0] ?? 0;
  const xt = (t: number): number => pad.l + ((t - tMin) / Math.max(1, tMax - tMin)) * pw;
  const y = (v: number): number => pad.t + ph - v * ph;
  const axes = (title: string, xLabel: string, xTicks: string): string =>
    `<rect x="${pad.l}" y="${pad.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>` +
    [0, 0.25, 0.5, 0.75, 1].map((v) => `<line x1="${pad.l}" x2="${pad.l + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#e4e4e4"/><text x="${pad.l - 4}" y="${y(v) + 4}" class="tick" text-anchor="end">${v}</text>`).join('') +
    xTicks +
    `<text x="${pad.l}" y="14" class="lbl">${esc(title)}</text><text x="${pad.l + pw / 2}" y="${H - 4}" class="tick" text-anchor="middle">${esc(xLabel)}</text>`;
  const left: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" class="curves">`];
  left.push(axes('F1 (solid), precision (dashed), recall (dotted) by cut tolerance', 'cut tolerance (frames)', tolerances.map((t) => `<text x="${xt(t)}" y="${pad.t + ph + 14}" class="tick" text-anchor="middle">${t}</text>`).join('')));
  detectors.forEach((d, k) => {
    const pts = (f: (s: Summary) => number): string => d.summaries.map((s) => `${xt(s.tolerance).toFixed(1)},${y(f(s)).toFixed(1)}`).join(' ');
    const c = detectorColor(k);
    left.push(`<polyline points="${pts((s) => s.all.f1)}" fill="none" stroke="${c}" stroke-width="2"><title>${esc(d.detector)} F1</title></polyline>`);
    left.push(`<polyline points="${pts((s) => s.all.precision)}" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="6 3"><title>${esc(d.detector)} precision</title></polyline>`);
    left.push(`<polyline points="${pts((s) => s.all.recall)}" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="2 3"><title>${esc(d.detector)} recall</title></polyline>`);
    for (const s of d.summaries) left.push(`<circle cx="${xt(s.tolerance).toFixed(1)}" cy="${y(s.all.f1).toFixed(1)}" r="3" fill="${c}"><title>${esc(`${d.detector} at ${s.tolerance}: F1 ${pct(s.all.f1)}%`)}</title></circle>`);
  });
  left.push('</svg>');
  const xr = (v: number): number => pad.l + v * pw;
  const right: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" class="curves">`];
  right.push(axes(`precision (up) against recall (right), tolerance ${tolerance}; grey: F1 iso-lines`, 'recall', [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${xr(v)}" y="${pad.t + ph + 14}" class="tick" text-anchor="middle">${v}</text>`).join('')));
  for (const f of [0.6, 0.7, 0.8, 0.9, 0.95]) {
    // P = F R / (2R - F), for R in (F/2, 1].
    const pts: string[] = [];
    for (let i = 0; i <= 60; i++) {
      const r = f / 2 + ((1 - f / 2) * i) / 60;
      const p = (f * r) / (2 * r - f);
      if (p <= 1.0001 && p >= 0) pts.push(`${xr(r).toFixed(1)},${y(Math.min(1, p)).toFixed(1)}`);
    }
    right.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#bbb" stroke-width="0.8"/><text x="${xr(1) - 2}" y="${y(f / (2 - f)) - 2}" class="tick" text-anchor="end">F1 ${f}</text>`);
  }
  detectors.forEach((d, k) => {
    const s = headlineOf(d, tolerance);
    const cx = xr(s.all.recall);
    const cy = y(s.all.precision);
    right.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${detectorColor(k)}" stroke="#fff"><title>${esc(`${d.detector}: P ${pct(s.all.precision)}% R ${pct(s.all.recall)}% F1 ${pct(s.all.f1)}%`)}</title></circle><text x="${(cx + 7).toFixed(1)}" y="${(cy + 4 + (k % 3) * 9 - 9).toFixed(1)}" class="pl">${esc(d.detector)}</text>`);
  });
  right.push('</svg>');
  return `<div class="curvebox">${left.join('')}${right.join('')}</div>`;
}

/** Max-pool a track to at most `buckets` points (peaks survive downsampling). */
function pool(values: ArrayLike<number>, buckets: number): { i: number; v: number }[] {
  const n = values.length;
  if (n <= buckets) return Array.from({ length: n }, (_, i) => ({ i, v: values[i]! }));
  const out: { i: number; v: number }[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.max(lo + 1, Math.floor(((b + 1) * n) / buckets));
    let best = lo;
    for (let i = lo; i < hi; i++) if (values[i]! > values[best]!) best = i;
    out.push({ i: best, v: values[best]! });
  }
  return out;
}

/** The run whose score tracks the clip's plot shows: the first that has any. */
function trackRun(clip: ReportClip): ReportRun | undefined {
  return clip.runs.find((r) => r.scores.some((t) => t.values.length > 0 && t.threshold > 0));
}

/**
 * The timeline SVG of one clip: truth, distractors, the score tracks of the first detector that has them, and
 * one row of detections per detector (green matched, red false, orange ✕ where that detector missed a truth).
 */
export function clipSvg(clip: ReportClip, width = 1280): string {
  const padL = 110;
  const padR = 12;
  const plotW = width - padL - padR;
  const N = Math.max(2, clip.frame_count);
  const x = (f: number): number => padL + (f / (N - 1)) * plotW;
  const truthY = 6;
  const distractorY = 26;
  const plotTop = 48;
  const plotH = 130;
  const rowH = 18;
  const detY = plotTop + plotH + 6;
  const height = detY + Math.max(1, clip.runs.length) * rowH + 16;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="timeline">`);
  const tracked = trackRun(clip);
  parts.push(`<text x="4" y="${truthY + 12}" class="lbl">truth</text><text x="4" y="${distractorY + 12}" class="lbl">distractors</text><text x="4" y="${plotTop + 12}" class="lbl">score/thr</text>${tracked === undefined ? '' : `<text x="4" y="${plotTop + 26}" class="lbl">(${esc(tracked.detector)})</text>`}`);
  clip.truth.forEach((t) => {
    const color = KIND_COLORS[t.kind] ?? '#555';
    const x0 = x(t.start_frame);
    const w = Math.max(2, x(t.end_frame + 1) - x0);
    const tip = `${t.kind} ${t.start_frame}-${t.end_frame} (frame ${t.frame})${t.uncertain === true ? ' uncertain' : ''}`;
    parts.push(`<rect x="${x0.toFixed(1)}" y="${truthY}" width="${w.toFixed(1)}" height="16" fill="${color}" opacity="${t.uncertain === true ? 0.35 : 0.85}"><title>${esc(tip)}</title></rect>`);
    parts.push(`<line x1="${x(t.frame).toFixed(1)}" x2="${x(t.frame).toFixed(1)}" y1="${plotTop}" y2="${detY + clip.runs.length * rowH}" stroke="${color}" stroke-opacity="0.2" stroke-width="${Math.max(1, w).toFixed(1)}"/>`);
  });
  for (const d of clip.distractors) {
    const x0 = x(d.start_frame);
    const w = Math.max(3, x(Math.min(d.end_frame, N - 1) + 1) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${distractorY}" width="${w.toFixed(1)}" height="16" fill="${d.uncertain === true ? '#ccc' : '#999'}" opacity="0.55"><title>${esc(`${d.kind} ${d.start_frame}-${d.end_frame}${d.uncertain === true ? ' (uncertain)' : ''}${d.what !== undefined ? `: ${d.what}` : ''}`)}</title></rect>`);
    parts.push(`<text x="${(x0 + 1).toFixed(1)}" y="${distractorY + 12}" class="dl">${esc(d.kind === 'non_transition' ? 'nt' : d.kind.slice(0, 3))}</text>`);
  }
  const tracks = (tracked?.scores ?? []).filter((t) => t.values.length > 0 && t.threshold > 0);
  let top = 2;
  for (const t of tracks) {
    let max = 0;
    for (let i = 0; i < t.values.length; i++) max = Math.max(max, t.values[i]! / t.threshold);
    top = Math.max(top, Math.min(max, 4));
  }
  const y = (r: number): number => plotTop + plotH - (Math.min(r, top) / top) * plotH;
  parts.push(`<rect x="${padL}" y="${plotTop}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ddd"/>`);
  if (tracks.length > 0) {
    parts.push(`<line x1="${padL}" x2="${padL + plotW}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#444" stroke-dasharray="5 4"><title>threshold</title></line>`);
    parts.push(`<text x="${padL - 4}" y="${(y(1) + 4).toFixed(1)}" class="lbl" text-anchor="end">1</text><text x="${padL - 4}" y="${plotTop + 10}" class="lbl" text-anchor="end">${top.toFixed(1)}</text>`);
  } else parts.push(`<text x="${padL + 8}" y="${plotTop + plotH / 2}" class="lbl">no score tracks (predictions read from files carry none)</text>`);
  tracks.forEach((t, k) => {
    const pts = pool(t.values, plotW * 2)
      .map((p) => `${x(p.i).toFixed(1)},${y(p.v / t.threshold).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${TRACK_COLORS[k % TRACK_COLORS.length]}" stroke-width="1.2"><title>${esc(`${t.name} (threshold ${t.threshold})`)}</title></polyline>`);
  });
  clip.runs.forEach((run, r) => {
    const ry = detY + r * rowH;
    parts.push(`<text x="4" y="${ry + 12}" class="lbl">${esc(run.detector.length > 16 ? run.detector.slice(0, 15) + '…' : run.detector)}</text><line x1="${padL}" x2="${padL + plotW}" y1="${ry + rowH - 1}" y2="${ry + rowH - 1}" stroke="#eee"/>`);
    if (run.error !== undefined) {
      parts.push(`<text x="${padL + 4}" y="${ry + 12}" class="lbl" fill="#9b1c1c">${esc(run.error)}</text>`);
      return;
    }
    const falsePositive = new Set(run.evaluation.false_positives);
    run.detections.forEach((d, i) => {
      const cx = x(d.frame);
      const color = falsePositive.has(i) ? '#d62728' : run.evaluation.excused.includes(i) ? '#bbb' : '#2ca02c';
      const span = d.start_frame !== undefined && d.end_frame !== undefined && d.end_frame > d.start_frame;
      if (span) parts.push(`<rect x="${x(d.start_frame!).toFixed(1)}" y="${ry + 13}" width="${Math.max(1, x(d.end_frame! + 1) - x(d.start_frame!)).toFixed(1)}" height="3" fill="${color}" opacity="0.6"/>`);
      const tip = `${run.detector}: ${d.kind ?? 'boundary'} at ${d.frame}${span ? ` (${d.start_frame}-${d.end_frame})` : ''}${d.confidence !== undefined ? `, confidence ${d.confidence.toFixed(2)}` : ''}${falsePositive.has(i) ? ' FALSE' : ''}`;
      parts.push(`<path d="M${cx.toFixed(1)} ${ry + 1} l-5 11 h10 z" fill="${color}"><title>${esc(tip)}</title></path>`);
    });
    for (const j of run.evaluation.misses) {
      const t = clip.truth[j]!;
      parts.push(`<text x="${x(t.frame).toFixed(1)}" y="${ry + 13}" class="miss" text-anchor="middle">✕<title>${esc(`${run.detector} missed ${t.kind} ${t.start_frame}-${t.end_frame}`)}</title></text>`);
    }
  });
  const seconds = clip.frame_count / (clip.frame_rate || 25);
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((st) => seconds / st <= 16) ?? 1200;
  const axisY = detY + clip.runs.length * rowH;
  for (let sec = 0; sec <= seconds; sec += step) {
    const fx = x(sec * clip.frame_rate);
    parts.push(`<line x1="${fx.toFixed(1)}" x2="${fx.toFixed(1)}" y1="${axisY}" y2="${axisY + 4}" stroke="#888"/><text x="${fx.toFixed(1)}" y="${height - 1}" class="tick" text-anchor="middle">${sec}s</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

interface Card {
  /** Frames to show: before, (middle of a gradual transition,) after. */
  frames: number[];
  label: string;
  /** Which detectors found it (truth cards) or which made it (false-positive cards). */
  who: string;
  cls: 'ok' | 'fp' | 'miss' | 'part';
  at: number;
}

/**
 * The boundary cards of a clip in frame order: every truth, saying which detectors found it and how they
 * labelled it, and every false positive, grouped when several detectors made one at the same frame.
 */
function cards(clip: ReportClip): Card[] {
  const out: Card[] = [];
  const runs = clip.runs.filter((r) => r.error === undefined);
  clip.truth.forEach((t, j) => {
    const gradual = t.end_frame > t.start_frame;
    const frames = gradual ? [t.start_frame - 1, t.frame, t.end_frame + 1] : [t.frame - 1, t.frame];
    const span = gradual ? ` ${t.start_frame}-${t.end_frame}` : '';
    const found: string[] = [];
    const missed: string[] = [];
    for (const r of runs) {
      const m = r.evaluation.matches.find((x) => x.truth === j);
      if (m === undefined) missed.push(r.detector);
      else {
        const d = r.detections[m.detection]!;
        found.push(`${r.detector}: ${d.kind ?? '?'} @${d.frame}${d.confidence !== undefined ? ` (${d.confidence.toFixed(2)})` : ''}`);
      }
    }
    const cls = runs.length === 0 || found.length === 0 ? 'miss' : missed.length === 0 ? 'ok' : 'part';
    const who = [...found.map((f) => `✓ ${f}`), ...(missed.length > 0 ? [`✕ ${missed.join(', ')}`] : [])].join('\n');
    out.push({ frames, at: t.frame, label: `${t.kind}${t.uncertain === true ? ' (uncertain)' : ''} @${t.frame}${span}`, who, cls });
  });
  const byFrame = new Map<number, string[]>();
  for (const r of runs) {
    for (const i of r.evaluation.false_positives) {
      const d = r.detections[i]!;
      byFrame.set(d.frame, [...(byFrame.get(d.frame) ?? []), `${r.detector}: ${d.kind ?? 'boundary'}${d.confidence !== undefined ? ` (${d.confidence.toFixed(2)})` : ''}`]);
    }
  }
  for (const [frame, who] of byFrame) {
    const on = clip.distractors.find((s) => frame >= s.start_frame - 2 && frame <= s.end_frame + 2);
    out.push({ frames: [frame - 1, frame], at: frame, label: `false @${frame}${on !== undefined ? ` on ${on.kind}${on.what !== undefined ? ` (${on.what.slice(0, 40)})` : ''}` : ''}`, who: who.join('\n'), cls: 'fp' });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Frames a clip's report wants thumbnails of: around each truth and each detection of every detector. */
export function thumbnailFrames(clip: Pick<ReportClip, 'truth' | 'runs' | 'frame_count'>, limit = 400): number[] {
  const frames = new Set<number>();
  const add = (f: number): void => {
    if (f >= 0 && f < clip.frame_count) frames.add(f);
  };
  for (const t of clip.truth) {
    add(t.start_frame - 1);
    add(t.end_frame + 1);
    add(t.frame);
    add(t.frame - 1);
  }
  for (const r of clip.runs) {
    for (const i of r.evaluation.false_positives) {
      const d = r.detections[i];
      if (d === undefined) continue;
      add(d.frame - 1);
      add(d.frame);
    }
  }
  return [...frames].sort((a, b) => a - b).slice(0, limit);
}

/**
 * Decode `frames` of a video as small JPEG data URIs, in one ffmpeg pass at thumbnail size (memory holds only
 * the wanted frames). Frames are indices of decoded frames in presentation order, as detection counts them.
 */
export async function extractThumbnails(video: string, frames: readonly number[], options: FfmpegPathOptions & { width?: number; height?: number; signal?: AbortSignal | undefined } = {}): Promise<Map<number, string>> {
  const want = new Set(frames);
  const out = new Map<number, string>();
  if (want.size === 0) return out;
  const W = options.width ?? 160;
  const H = options.height ?? 90;
  const last = Math.max(...want);
  const { ffmpeg } = resolveFfmpegPaths(options);
  const args = [
    '-hide_banner', '-loglevel', 'error', ...safeInputArgs(), '-i', fileUrl(video), '-an', '-sn',
    '-vf', `scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2`,
    '-vsync', '0', '-frames:v', String(last + 1), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const { child } = spawnTool(ffmpeg, args, { signal: options.signal });
  const sharpModule = (await import('sharp')) as unknown as { default: typeof import('sharp') };
  const sharp = sharpModule.default;
  const frameBytes = W * H * 3;
  const pending: Promise<void>[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let index = 0;
  await new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= frameBytes) {
        const frame = buffer.subarray(0, frameBytes);
        buffer = buffer.subarray(frameBytes);
        const at = index++;
        if (want.has(at)) {
          const copy = Buffer.from(frame);
          pending.push(
            sharp(copy, { raw: { width: W, height: H, channels: 3 } })
              .jpeg({ quality: 70 })
              .toBuffer()
              .then((jpeg) => {
                out.set(at, `data:image/jpeg;base64,${jpeg.toString('base64')}`);
              }),
          );
        }
      }
    });
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  await Promise.all(pending);
  return out;
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:20px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px;border-top:1px solid #ddd;padding-top:12px}
.muted,.notes{color:#666} .notes div{font-family:monospace;font-size:12px}
table{border-collapse:collapse;margin:8px 0 12px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:right} th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left} tr.bad td{background:#fde8e8} tr.total td{font-weight:bold}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
.targets span{display:inline-block;margin:2px 8px 2px 0;padding:2px 8px;border-radius:10px}
.pass{background:#e3f5e1;color:#17631b} .fail{background:#fde8e8;color:#9b1c1c}
.timeline .lbl{font-size:11px;fill:#555} .timeline .tick{font-size:10px;fill:#777} .timeline .dl{font-size:9px;fill:#222}
.timeline .miss{font-size:14px;fill:#e67e00;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:6px} .card{border:2px solid #ccc;border-radius:4px;padding:3px;font-size:11px}
.card.ok{border-color:#9bd39b} .card.fp{border-color:#e06666;background:#fff5f5} .card.miss{border-color:#f0a030;background:#fff8ee}
.card img{width:160px;height:90px;display:inline-block;background:#eee;margin-right:2px} .card .noimg{display:inline-block;width:160px;height:90px;background:#eee}
.legend span{margin-right:14px;font-size:12px}
.card.part{border-color:#e0c050;background:#fffbea} .card .who{white-space:pre-line;color:#444;font-size:10.5px}
td .src{font-size:10.5px;color:#888;font-weight:normal} td.best{background:#e3f5e1} td.low{background:#fff1e0}
td.targets span{display:inline-block;margin:1px 3px;padding:0 6px;border-radius:8px;font-size:11px}
.curvebox{display:flex;flex-wrap:wrap;gap:16px} .curves .lbl{font-size:11px;fill:#444} .curves .tick{font-size:10px;fill:#777} .curves .pl{font-size:10.5px;fill:#222}
`;

/** Render the whole report as one HTML document: every detector side by side, then every clip. */
export function renderReport(input: ReportInput): string {
  const tol = input.headlineTolerance;
  const parts: string[] = [];
  parts.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>${esc(input.title)}</h1><div class="notes">${input.notes.map((n) => `<div>${esc(n)}</div>`).join('')}</div>`);
  if (input.detectors.length > 0) {
    parts.push(`<h2>Summary: ${input.detectors.length} detector${input.detectors.length === 1 ? '' : 's'} side by side (cut tolerance ${tol})</h2>`);
    parts.push(summaryTable(input.detectors, tol));
    parts.push(`<p class="muted">Cuts match within the tolerance; gradual transitions anywhere inside their span widened on each side (any frame of a detected span counts); one-to-one, closest pairs first. Counts are pooled over clips before the ratios.</p>`);
    parts.push(`<h2>Recall by kind</h2>${kindTable(input.detectors, tol)}`);
    parts.push(`<h2>Curves</h2>${curvesSvg(input.detectors, tol)}${toleranceTable(input.detectors)}`);
    parts.push(`<h2>Distractors</h2>${distractorTable(input.detectors, tol)}`);
    parts.push(`<h2>Per clip F1 %</h2>${perClipTable(input)}`);
  }
  parts.push(`<div class="legend"><b>Legend:</b> ${Object.entries(KIND_COLORS).map(([k, c]) => `<span><span class="dot" style="background:${c}"></span>${k}</span>`).join('')}<span><span class="dot" style="background:#999"></span>distractor</span><span style="color:#2ca02c">▲ detection matched</span><span style="color:#d62728">▲ false detection</span><span style="color:#e67e00">✕ missed by that detector</span><span>- - - threshold</span></div>`);
  for (const clip of input.clips) {
    parts.push(`<h2 id="${esc(clip.name)}">${esc(clip.name)}</h2>`);
    parts.push(`<div class="muted">${esc(clip.video)} · ${clip.frame_count} frames at ${clip.frame_rate.toFixed(3)} fps · ${clip.truth.length} transitions · ${clip.runs.map((r) => (r.error !== undefined ? `${esc(r.detector)} failed` : `${esc(r.detector)} TP ${r.evaluation.all.tp} FP ${r.evaluation.all.fp} FN ${r.evaluation.all.fn}${r.seconds > 0 ? ` (${r.seconds.toFixed(1)} s)` : ''}`)).join(' · ')}</div>`);
    parts.push(clipSvg(clip));
    parts.push('<div class="cards">');
    for (const c of cards(clip)) {
      const img = (f: number): string => {
        const uri = clip.thumbnails.get(f);
        return uri === undefined ? '<span class="noimg"></span>' : `<img src="${uri}" alt="frame ${f}" title="frame ${f}">`;
      };
      parts.push(`<div class="card ${c.cls}" style="width:${c.frames.length * 164 + 4}px">${c.frames.map(img).join('')}<div>${esc(c.label)}</div><div class="who">${esc(c.who)}</div></div>`);
    }
    parts.push('</div>');
  }
  parts.push('</body></html>');
  return parts.join('\n');
}

/** Every clip's F1 for every detector (at the headline tolerance). */
function perClipTable(input: ReportInput): string {
  const head = input.detectors.map((d, k) => `<th><span class="dot" style="background:${detectorColor(k)}"></span>${esc(d.detector)}</th>`).join('');
  const rows = input.clips
    .map((clip) => {
      const cells = input.detectors
        .map((d) => {
          const run = clip.runs.find((r) => r.detector === d.detector);
          if (run === undefined || run.error !== undefined) return '<td class="low">failed</td>';
          const e = run.evaluation.all;
          if (e.tp + e.fp + e.fn === 0) return '<td class="muted">-</td>';
          const s = scores(e);
          return `<td class="${s.f1 < 0.85 ? 'low' : ''}">${pct(s.f1)} <span class="muted">${e.tp}/${e.fp}/${e.fn}</span></td>`;
        })
        .join('');
      return `<tr><td><a href="#${esc(clip.name)}">${esc(clip.name)}</a> <span class="muted">(${clip.truth.length})</span></td>${cells}</tr>`;
    })
    .join('');
  return `<table><thead><tr><th>clip (transitions) · cells: F1 TP/FP/FN</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}
