/**
 * The visual benchmark report: one self-contained HTML file (inline CSS and SVG, thumbnails as JPEG data URIs,
 * no script, no network) with the summary tables and, per clip, the detector's score curves over time against
 * their threshold, the ground truth and the detections marked, and before/after thumbnails at each boundary.
 *
 * Score tracks are drawn relative to their own threshold (value / threshold), so tracks on different scales
 * share one plot and one dashed threshold line at 1.
 */
import { spawnTool, fileUrl, resolveFfmpegPaths, safeInputArgs, type FfmpegPathOptions } from '../media/ffmpeg.js';
import { DISTRACTOR_KINDS, TRUTH_KINDS, type DetectedBoundary, type TruthDistractor, type TruthTransition } from './types.js';
import type { ClipEvaluation, Summary, TargetCheck } from './metrics.js';

/** A per-frame score track, as detectScenes exposes it. */
export interface ReportScoreTrack {
  name: string;
  values: ArrayLike<number>;
  threshold: number;
}

/** One clip of the report. */
export interface ReportClip {
  name: string;
  video: string;
  frame_count: number;
  frame_rate: number;
  truth: readonly TruthTransition[];
  distractors: readonly TruthDistractor[];
  detections: readonly DetectedBoundary[];
  scores: readonly ReportScoreTrack[];
  /** The evaluation at the report's headline tolerance. */
  evaluation: ClipEvaluation;
  /** Frame index to JPEG data URI. */
  thumbnails: ReadonlyMap<number, string>;
  /** Seconds detection took. */
  seconds: number;
  /** An error instead of a result. */
  error?: string | undefined;
}

/** The whole report. */
export interface ReportInput {
  title: string;
  /** Free text lines under the title (command, dataset, detector, date). */
  notes: string[];
  /** Summaries at each tolerance. */
  summaries: readonly Summary[];
  /** The tolerance the per-clip marks use. */
  headlineTolerance: number;
  targets: readonly TargetCheck[];
  clips: readonly ReportClip[];
}

const KIND_COLORS: Record<string, string> = { cut: '#d62728', dissolve: '#1f77b4', fade: '#7f3fbf', wipe: '#2ca02c', gradual: '#17becf' };
const TRACK_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const pct = (v: number): string => (Number.isFinite(v) ? (v * 100).toFixed(1) : '-');

function summaryTable(summaries: readonly Summary[]): string {
  const rows = summaries
    .map((s) => `<tr><td>${s.tolerance}</td><td>${s.all.tp}</td><td>${s.all.fp}</td><td>${s.all.fn}</td><td>${pct(s.all.precision)}</td><td>${pct(s.all.recall)}</td><td><b>${pct(s.all.f1)}</b></td><td>${Number.isFinite(s.mean_cut_offset) ? s.mean_cut_offset.toFixed(2) : '-'}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>cut tolerance (frames)</th><th>TP</th><th>FP</th><th>FN</th><th>precision %</th><th>recall %</th><th>F1 %</th><th>mean cut offset</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function kindTable(s: Summary): string {
  const rows = TRUTH_KINDS.filter((k) => s.kinds[k].truth > 0 || s.kinds[k].fp > 0)
    .map((k) => {
      const c = s.kinds[k];
      return `<tr><td><span class="dot" style="background:${KIND_COLORS[k]}"></span>${k}</td><td>${c.truth}</td><td>${c.tp}</td><td>${c.fn}</td><td>${c.fp}</td><td>${pct(c.precision)}</td><td>${pct(c.recall)}</td><td>${pct(c.f1)}</td><td>${c.tp === 0 ? '-' : pct(c.kind_correct / c.tp)}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>kind</th><th>truth</th><th>found</th><th>missed</th><th>FP labelled so</th><th>precision %</th><th>recall %</th><th>F1 %</th><th>label agrees %</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function distractorTable(s: Summary): string {
  if (s.distractor_total.count === 0) return '<p class="muted">No annotated distractors.</p>';
  const rows = DISTRACTOR_KINDS.filter((k) => s.distractors[k].count > 0)
    .map((k) => {
      const d = s.distractors[k];
      return `<tr class="${d.false_boundaries > 0 ? 'bad' : ''}"><td>${k}</td><td>${d.count}</td><td>${d.false_boundaries}</td><td>${d.fired}</td></tr>`;
    })
    .join('');
  const t = s.distractor_total;
  return `<table><thead><tr><th>distractor</th><th>count</th><th>false boundaries</th><th>distractors that fired</th></tr></thead><tbody>${rows}<tr class="total"><td>all</td><td>${t.count}</td><td>${t.false_boundaries}</td><td>${t.fired}</td></tr></tbody></table>`;
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

/** The timeline SVG of one clip. */
export function clipSvg(clip: ReportClip, width = 1280): string {
  const padL = 70;
  const padR = 12;
  const plotW = width - padL - padR;
  const N = Math.max(2, clip.frame_count);
  const x = (f: number): number => padL + (f / (N - 1)) * plotW;
  const truthY = 6;
  const distractorY = 26;
  const plotTop = 48;
  const plotH = 150;
  const detY = plotTop + plotH + 6;
  const height = detY + 28;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="timeline">`);
  parts.push(`<text x="4" y="${truthY + 12}" class="lbl">truth</text><text x="4" y="${distractorY + 12}" class="lbl">distractors</text><text x="4" y="${plotTop + 12}" class="lbl">score/thr</text><text x="4" y="${detY + 14}" class="lbl">detected</text>`);
  // Ground truth.
  const missed = new Set(clip.evaluation.misses);
  clip.truth.forEach((t, j) => {
    const color = KIND_COLORS[t.kind] ?? '#555';
    const x0 = x(t.start_frame);
    const w = Math.max(2, x(t.end_frame + 1) - x0);
    const tip = `${t.kind} ${t.start_frame}-${t.end_frame} (frame ${t.frame})${missed.has(j) ? ' MISSED' : ''}`;
    parts.push(`<rect x="${x0.toFixed(1)}" y="${truthY}" width="${w.toFixed(1)}" height="16" fill="${color}" opacity="0.85"><title>${esc(tip)}</title></rect>`);
    parts.push(`<line x1="${x(t.frame).toFixed(1)}" x2="${x(t.frame).toFixed(1)}" y1="${plotTop}" y2="${plotTop + plotH}" stroke="${color}" stroke-opacity="0.25" stroke-width="${Math.max(1, w).toFixed(1)}"/>`);
    if (missed.has(j)) parts.push(`<text x="${x(t.frame).toFixed(1)}" y="${truthY + 30}" class="miss" text-anchor="middle">✕<title>${esc(tip)}</title></text>`);
  });
  // Distractors.
  for (const d of clip.distractors) {
    const x0 = x(d.start_frame);
    const w = Math.max(3, x(d.end_frame + 1) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${distractorY}" width="${w.toFixed(1)}" height="16" fill="#999" opacity="0.55"><title>${esc(`${d.kind} ${d.start_frame}-${d.end_frame}`)}</title></rect>`);
    parts.push(`<text x="${(x0 + 1).toFixed(1)}" y="${distractorY + 12}" class="dl">${esc(d.kind.slice(0, 2))}</text>`);
  }
  // Scores relative to their thresholds.
  const tracks = clip.scores.filter((t) => t.values.length > 0 && t.threshold > 0);
  let top = 2;
  for (const t of tracks) {
    let max = 0;
    for (let i = 0; i < t.values.length; i++) max = Math.max(max, t.values[i]! / t.threshold);
    top = Math.max(top, Math.min(max, 4));
  }
  const y = (r: number): number => plotTop + plotH - (Math.min(r, top) / top) * plotH;
  parts.push(`<rect x="${padL}" y="${plotTop}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ddd"/>`);
  parts.push(`<line x1="${padL}" x2="${padL + plotW}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#444" stroke-dasharray="5 4"><title>threshold</title></line>`);
  parts.push(`<text x="${padL - 4}" y="${(y(1) + 4).toFixed(1)}" class="lbl" text-anchor="end">1</text><text x="${padL - 4}" y="${plotTop + 10}" class="lbl" text-anchor="end">${top.toFixed(1)}</text>`);
  tracks.forEach((t, k) => {
    const pts = pool(t.values, plotW * 2)
      .map((p) => `${x(p.i).toFixed(1)},${y(p.v / t.threshold).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${TRACK_COLORS[k % TRACK_COLORS.length]}" stroke-width="1.2"><title>${esc(`${t.name} (threshold ${t.threshold})`)}</title></polyline>`);
  });
  // Detections.
  const falsePositive = new Set(clip.evaluation.false_positives);
  clip.detections.forEach((d, i) => {
    const cx = x(d.frame);
    const color = falsePositive.has(i) ? '#d62728' : '#2ca02c';
    const tip = `${d.kind ?? 'boundary'} at ${d.frame}${d.start_frame !== undefined && d.end_frame !== undefined && d.end_frame > d.start_frame ? ` (${d.start_frame}-${d.end_frame})` : ''}${d.confidence !== undefined ? `, confidence ${d.confidence.toFixed(2)}` : ''}${falsePositive.has(i) ? ' FALSE' : ''}`;
    parts.push(`<path d="M${cx.toFixed(1)} ${detY} l-6 12 h12 z" fill="${color}"><title>${esc(tip)}</title></path>`);
  });
  // Time axis.
  const seconds = clip.frame_count / (clip.frame_rate || 25);
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => seconds / s <= 16) ?? 1200;
  for (let s = 0; s <= seconds; s += step) {
    const fx = x(s * clip.frame_rate);
    parts.push(`<line x1="${fx.toFixed(1)}" x2="${fx.toFixed(1)}" y1="${plotTop + plotH}" y2="${plotTop + plotH + 4}" stroke="#888"/><text x="${fx.toFixed(1)}" y="${height - 1}" class="tick" text-anchor="middle">${s}s</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

interface Card {
  /** Frames to show: before, (middle of a gradual transition,) after. */
  frames: number[];
  label: string;
  cls: 'ok' | 'fp' | 'miss';
  at: number;
}

/** The boundary cards of a clip: every truth (found or missed) and every false positive, in frame order. */
function cards(clip: ReportClip): Card[] {
  const out: Card[] = [];
  const byTruth = new Map(clip.evaluation.matches.map((m) => [m.truth, m]));
  clip.truth.forEach((t, j) => {
    const m = byTruth.get(j);
    const gradual = t.end_frame > t.start_frame;
    const frames = gradual ? [t.start_frame - 1, t.frame, t.end_frame + 1] : [t.frame - 1, t.frame];
    const span = gradual ? ` ${t.start_frame}-${t.end_frame}` : '';
    if (m === undefined) out.push({ frames, at: t.frame, label: `missed ${t.kind} @${t.frame}${span}`, cls: 'miss' });
    else {
      const d = clip.detections[m.detection]!;
      out.push({ frames, at: t.frame, label: `${t.kind} @${t.frame}${span} found as ${d.kind ?? '?'} @${d.frame}${d.confidence !== undefined ? ` (${d.confidence.toFixed(2)})` : ''}`, cls: 'ok' });
    }
  });
  for (const i of clip.evaluation.false_positives) {
    const d = clip.detections[i]!;
    const on = clip.distractors.find((s) => d.frame >= s.start_frame - 2 && d.frame <= s.end_frame + 2);
    out.push({ frames: [d.frame - 1, d.frame], at: d.frame, label: `false ${d.kind ?? 'boundary'} @${d.frame}${on !== undefined ? ` on ${on.kind}` : ''}${d.confidence !== undefined ? ` (${d.confidence.toFixed(2)})` : ''}`, cls: 'fp' });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Frames a clip's report wants thumbnails of: the frame before and at each boundary card. */
export function thumbnailFrames(clip: Pick<ReportClip, 'truth' | 'detections' | 'frame_count'>, limit = 300): number[] {
  const frames = new Set<number>();
  const add = (f: number): void => {
    if (f >= 0 && f < clip.frame_count) frames.add(f);
  };
  for (const t of clip.truth) {
    add(t.start_frame - 1);
    add(t.end_frame + 1);
    add(t.frame);
  }
  for (const d of clip.detections) {
    add(d.frame - 1);
    add(d.frame);
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
`;

/** Render the whole report as one HTML document. */
export function renderReport(input: ReportInput): string {
  const headline = input.summaries.find((s) => s.tolerance === input.headlineTolerance) ?? input.summaries[0];
  const parts: string[] = [];
  parts.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>${esc(input.title)}</h1><div class="notes">${input.notes.map((n) => `<div>${esc(n)}</div>`).join('')}</div>`);
  parts.push(`<h2>Summary</h2>${summaryTable(input.summaries)}`);
  if (headline !== undefined) {
    parts.push(`<p class="muted">Gradual transitions match anywhere inside their span widened by 2 frames at every tolerance; cuts within the tolerance. Greedy one-to-one matching by distance (TRECVID). Per-kind and distractor tables at tolerance ${headline.tolerance}.</p>`);
    if (input.targets.length > 0) parts.push(`<div class="targets">${input.targets.map((t) => `<span class="${t.pass ? 'pass' : 'fail'}">${esc(t.name)} ${t.name.includes('per distractor') ? t.value.toFixed(3) : pct(t.value) + '%'} (${esc(t.target)})</span>`).join('')}</div>`);
    parts.push(kindTable(headline), distractorTable(headline));
  }
  parts.push(`<div class="legend"><b>Legend:</b> ${Object.entries(KIND_COLORS).map(([k, c]) => `<span><span class="dot" style="background:${c}"></span>${k}</span>`).join('')}<span><span class="dot" style="background:#999"></span>distractor</span><span style="color:#2ca02c">▲ detection matched</span><span style="color:#d62728">▲ false detection</span><span style="color:#e67e00">✕ missed</span><span>- - - threshold</span></div>`);
  for (const clip of input.clips) {
    const e = clip.evaluation.all;
    parts.push(`<h2 id="${esc(clip.name)}">${esc(clip.name)}</h2>`);
    if (clip.error !== undefined) {
      parts.push(`<p class="fail">${esc(clip.error)}</p>`);
      continue;
    }
    parts.push(`<div class="muted">${esc(clip.video)} · ${clip.frame_count} frames at ${clip.frame_rate.toFixed(3)} fps · TP ${e.tp} · FP ${e.fp} · FN ${e.fn} · detected in ${clip.seconds.toFixed(1)} s (${(clip.frame_count / Math.max(clip.seconds, 1e-9)).toFixed(0)} fps) · tracks: ${clip.scores.map((t, k) => `<span style="color:${TRACK_COLORS[k % TRACK_COLORS.length]}">${esc(t.name)}</span>`).join(', ') || 'none'}</div>`);
    parts.push(clipSvg(clip));
    const cs = cards(clip);
    parts.push('<div class="cards">');
    for (const c of cs) {
      const img = (f: number): string => {
        const uri = clip.thumbnails.get(f);
        return uri === undefined ? '<span class="noimg"></span>' : `<img src="${uri}" alt="frame ${f}" title="frame ${f}">`;
      };
      parts.push(`<div class="card ${c.cls}" style="width:${c.frames.length * 164 + 4}px">${c.frames.map(img).join('')}<div>${esc(c.label)}</div></div>`);
    }
    parts.push('</div>');
  }
  parts.push('</body></html>');
  return parts.join('\n');
}
