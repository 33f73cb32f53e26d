/**
 * Scene lists loaded back from files (`--scenes file` of split and images): the JSON of `scenescope detect` or
 * `analyze`, the CSV of `detect --format csv`, or PySceneDetect's scene list CSV.
 */
import { readFile } from 'node:fs/promises';
import type { SceneSpan } from '../api/scene-files.js';
import { ScenescopeError } from '../errors.js';

function bad(file: string, why: string): ScenescopeError {
  return new ScenescopeError('INVALID_OPTION', `--scenes ${file}: ${why}; give the JSON of scenescope detect/analyze or a CSV of detect --format csv`, { details: { file } });
}

/** Split one CSV line (quotes honoured). */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Read a scene list.
 * @throws ScenescopeError FILE_NOT_FOUND, or INVALID_OPTION naming what is wrong with the file.
 */
export async function loadSceneList(file: string): Promise<SceneSpan[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScenescopeError('FILE_NOT_FOUND', `Cannot read the scene list ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  const trimmed = text.trimStart();
  let scenes: SceneSpan[];
  if (trimmed.startsWith('{')) {
    let doc: { scenes?: unknown; detectors?: { scenes?: unknown }[] };
    try {
      doc = JSON.parse(trimmed) as typeof doc;
    } catch (error) {
      throw bad(file, `not valid JSON (${(error as Error).message})`);
    }
    const list = doc.scenes ?? doc.detectors?.[0]?.scenes;
    if (!Array.isArray(list)) throw bad(file, 'no "scenes" array');
    scenes = list.map((s: Record<string, unknown>, i: number) => ({
      scene_index: typeof s['scene_index'] === 'number' ? s['scene_index'] : i,
      start_frame: Number(s['start_frame']),
      end_frame: Number(s['end_frame']),
      start_time: Number(s['start_time']),
      end_time: Number(s['end_time']),
    }));
  } else {
    let lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    // PySceneDetect writes a "Timecode List:" line before its header.
    if (lines[0]?.startsWith('Timecode List') === true) lines = lines.slice(1);
    const header = cells(lines[0] ?? '').map((h) => h.trim().toLowerCase());
    const col = (...names: string[]): number => {
      for (const n of names) {
        const i = header.indexOf(n);
        if (i >= 0) return i;
      }
      throw bad(file, `no column ${names[0]}`);
    };
    const sf = col('start_frame', 'start frame');
    const ef = col('end_frame', 'end frame');
    const st = col('start_time', 'start time (seconds)');
    const et = col('end_time', 'end time (seconds)');
    // PySceneDetect's end frame is inclusive and 1-based like its start frame; ours are 0-based, end exclusive.
    const pyscenedetect = header.includes('start frame');
    scenes = lines.slice(1).map((line, i) => {
      const c = cells(line);
      const start = Number(c[sf]);
      const end = Number(c[ef]);
      return { scene_index: i, start_frame: pyscenedetect ? start - 1 : start, end_frame: end, start_time: Number(c[st]), end_time: Number(c[et]) };
    });
  }
  scenes.forEach((s, i) => {
    if (![s.start_frame, s.end_frame, s.start_time, s.end_time].every(Number.isFinite) || s.end_time <= s.start_time) throw bad(file, `scene ${i + 1} has no valid start and end`);
  });
  if (scenes.length === 0) throw bad(file, 'no scenes');
  return scenes;
}
