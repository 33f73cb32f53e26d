/**
 * Tables for a scored xfade corpus (see docs/benchmarks.md): reads the corpus truth and the JSON lines of
 * `scenescope bench DIR --json` and prints, in Markdown, each detector's headline P/R/F1, recall by kind and
 * false boundaries on distractors, then recall by xfade family for every detector and the misses of the first
 * one (the default detector when it leads the --detector list):
 *
 *   node dist/benchmarks/xfade-report.js --corpus DIR --bench FILE.jsonl
 */
import { parseArgs } from 'node:util';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

interface TruthT {
  kind: string;
  family: string;
  start_frame: number;
  end_frame: number;
  role?: string;
}
interface ClipLine {
  type: 'clip';
  detector: string;
  name: string;
  missed?: { kind: string; start_frame: number; end_frame: number; frame: number }[];
  false_positives?: { kind?: string; frame: number }[];
  error?: string;
}
interface SummaryLine {
  type: 'summary';
  detector: string;
  headline: boolean;
  tolerance: number;
  all: { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number };
  kinds: Record<string, { truth: number; tp: number; kind_correct: number }>;
  distractor_total: { count: number; false_boundaries: number };
  kind_accuracy: number;
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { corpus: { type: 'string' }, bench: { type: 'string' } } });
  if (values.corpus === undefined || values.bench === undefined) {
    process.stderr.write('Usage: xfade-report --corpus DIR --bench FILE.jsonl\n');
    return 2;
  }
  const truth = new Map<string, TruthT[]>();
  for (const f of (await readdir(values.corpus)).filter((n) => n.endsWith('.json')).sort()) {
    const j = JSON.parse(await readFile(path.join(values.corpus, f), 'utf8')) as { generator?: string; transitions: TruthT[] };
    if (j.generator === 'xfade') truth.set(f.slice(0, -5), j.transitions);
  }
  const lines = (await readFile(values.bench, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ClipLine | SummaryLine | { type: string });
  const summaries = lines.filter((l): l is SummaryLine => l.type === 'summary' && (l as SummaryLine).headline);
  const clips = lines.filter((l): l is ClipLine => l.type === 'clip');
  const detectors = summaries.map((s) => s.detector);
  const out: string[] = [];
  const kinds = ['cut', 'dissolve', 'fade', 'wipe'];
  out.push(`| detector | P | R | F1 | TP/FP/FN | ${kinds.map((k) => `${k} R`).join(' | ')} | kind acc | false on distractors |`);
  out.push(`| --- | --- | --- | --- | --- | ${kinds.map(() => '---').join(' | ')} | --- | --- |`);
  for (const s of summaries) {
    const byKind = kinds.map((k) => {
      const c = s.kinds[k];
      return c === undefined || c.truth === 0 ? '-' : `${(c.tp / c.truth).toFixed(2)} (${c.tp}/${c.truth})`;
    });
    out.push(`| ${s.detector} | ${f3(s.all.precision)} | ${f3(s.all.recall)} | **${f3(s.all.f1)}** | ${s.all.tp}/${s.all.fp}/${s.all.fn} | ${byKind.join(' | ')} | ${f3(s.kind_accuracy)} | ${s.distractor_total.false_boundaries} on ${s.distractor_total.count} |`);
  }
  // Recall by family: a truth is found unless it is in the detector's missed list.
  const familyOf = (t: TruthT): string => (t.family === 'cut' ? (t.role === 'montage' ? 'cut (montage)' : 'cut') : t.family);
  const families = new Map<string, number>();
  for (const ts of truth.values()) for (const t of ts) families.set(familyOf(t), (families.get(familyOf(t)) ?? 0) + 1);
  const missedBy = new Map<string, Map<string, number>>();
  const missList: string[] = [];
  for (const d of detectors) {
    const m = new Map<string, number>();
    for (const c of clips.filter((x) => x.detector === d)) {
      const ts = truth.get(c.name) ?? [];
      for (const miss of c.missed ?? []) {
        const t = ts.find((x) => x.start_frame === miss.start_frame && x.end_frame === miss.end_frame);
        const fam = t === undefined ? `?${miss.kind}` : familyOf(t);
        m.set(fam, (m.get(fam) ?? 0) + 1);
        if (d === detectors[0]) missList.push(`${c.name} ${fam} ${miss.start_frame}-${miss.end_frame}`);
      }
    }
    missedBy.set(d, m);
  }
  out.push('', `Recall by xfade family (found/total; kind in brackets):`, '', `| family | ${detectors.join(' | ')} |`, `| --- | ${detectors.map(() => '---').join(' | ')} |`);
  const kindOf = new Map<string, string>();
  for (const ts of truth.values()) for (const t of ts) kindOf.set(familyOf(t), t.kind);
  for (const [fam, n] of [...families].sort((a, b) => (kindOf.get(a[0]) ?? '').localeCompare(kindOf.get(b[0]) ?? '') || a[0].localeCompare(b[0]))) {
    out.push(`| ${fam} (${kindOf.get(fam)}) | ${detectors.map((d) => `${n - (missedBy.get(d)!.get(fam) ?? 0)}/${n}`).join(' | ')} |`);
  }
  if (detectors[0] !== undefined) {
    out.push('', `Misses of ${detectors[0]} (clip, family, span): ${missList.length}`, '', ...missList.map((m) => `- ${m}`));
    const fps = clips.filter((c) => c.detector === detectors[0]).flatMap((c) => (c.false_positives ?? []).map((f) => `${c.name} ${f.frame} (${f.kind ?? '?'})`));
    out.push('', `False positives of ${detectors[0]}: ${fps.length}`, '', ...fps.map((f) => `- ${f}`));
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
