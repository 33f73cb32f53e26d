/**
 * `scenescope models list|install|fetch`: the command-line face of the model registry.
 *
 *   scenescope models list [--models <dir>] [--quick] [--all] [--json]
 *   scenescope models install --from <dir> [ids...] [--models <dir>] [--json]
 *   scenescope models fetch [ids...] [--models <dir>] [--base-url <url>] [--include-optional] [--json]
 *
 * Common: `--manifest <file>` reads another manifest (mirrors, tests). The models folder defaults to
 * SCENESCOPE_MODELS_DIR, else the per-user data folder (see docs/models.md).
 * Exit codes: 0 success, 1 something failed or is not installed as asked, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { reportError, UsageError } from './io.js';
import { fetchModels } from '../models/fetch.js';
import { installModels, selectEntries, type InstallProgress, type InstallReport } from '../models/install.js';
import { checkModel, defaultModelsDir, installHint, loadManifest, type ModelEntry, type ModelStatus } from '../models/registry.js';

/** Where the command writes and which environment it reads. */
export interface ModelsCommandIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage:
  scenescope models list [--models <dir>] [--quick] [--all] [--json]
  scenescope models install --from <dir> [ids...] [--models <dir>] [--json]
  scenescope models fetch [ids...] [--models <dir>] [--base-url <url>] [--include-optional] [--json]

Options:
  --models <dir>        models folder (default: $SCENESCOPE_MODELS_DIR, else ~/.local/share/scenescope/models)
  --from <dir>          folder to install from (a USB stick, a copy of another models folder)
  --base-url <url>      fetch from a mirror laid out as <url>/<id>/<file> (default: $SCENESCOPE_MODELS_BASE_URL)
  --include-optional    fetch optional files too (for example the float32 captioner)
  --quick               list: check presence and size only, skip sha256
  --all                 list: also the manifest's models the pipeline does not use
  --manifest <file>     use another model manifest
  --json                print one JSON document
`;

function pad(text: string, width: number): string {
  return text.length >= width ? text + ' ' : text + ' '.repeat(width - text.length);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function listText(modelsDir: string, statuses: (ModelStatus & { unused?: string })[]): string {
  const lines = [`models folder: ${modelsDir}`];
  for (const s of statuses) {
    const note = s.unused === undefined ? '' : ` (not used by the pipeline: ${s.unused})`;
    lines.push(`${pad(s.id, 28)}${pad(s.task, 16)}${s.state}${s.reason === undefined ? '' : ': ' + s.reason}${note}`);
    for (const f of s.files) {
      if (f.state === 'missing' && f.optional) continue;
      const note = f.state === 'ok' ? 'verified' : f.state === 'unverified' ? (f.reason === undefined ? 'present (not hashed)' : 'present, no pinned sha256') : (f.reason ?? f.state);
      lines.push(`    ${pad(f.name, 44)}${note}${f.optional ? ' (optional)' : ''}`);
    }
  }
  // A captioner is an add-on (descriptions are composed without one), so it is not counted as missing.
  const missing = statuses.filter((s) => s.state !== 'installed' && s.unused === undefined && s.task !== 'caption');
  const addOns = statuses.filter((s) => s.state !== 'installed' && s.task === 'caption');
  if (missing.length > 0 || addOns.length > 0) lines.push('');
  if (missing.length > 0) lines.push(`${missing.length} model(s) not installed. ${installHint('<id>', modelsDir)}`);
  for (const s of addOns) lines.push(`${s.id} (optional): an image captioner writes the descriptions instead of composing them; see docs/models.md to install one.`);
  return lines.join('\n') + '\n';
}

function reportText(verb: string, report: InstallReport): string {
  const lines = [`models folder: ${report.modelsDir}`];
  for (const f of report.files) {
    const what = f.action === 'installed' ? `${verb} (${formatBytes(f.bytes ?? 0)})` : f.action === 'present' ? 'already installed' : f.action === 'not-found' ? `not found: ${f.reason ?? ''}` : `FAILED: ${f.reason ?? ''}`;
    lines.push(`${pad(f.id, 28)}${pad(f.file, 44)}${what}`);
  }
  lines.push('');
  for (const m of report.models) lines.push(`${pad(m.id, 28)}${m.state}${m.reason === undefined ? '' : ': ' + m.reason}`);
  return lines.join('\n') + '\n';
}

/** Throttled progress lines on stderr (one per file per ~10 %), so logs stay short. */
function progressPrinter(io: ModelsCommandIO, verb: string): (p: InstallProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const key = `${p.id}/${p.file}`;
    const step = p.total === undefined || p.total === 0 ? Math.floor(p.done / (16 << 20)) : Math.floor((p.done / p.total) * 10);
    if (last.get(key) === step) return;
    last.set(key, step);
    const share = p.total === undefined ? formatBytes(p.done) : `${formatBytes(p.done)} / ${formatBytes(p.total)}`;
    io.stderr.write(`${verb} ${key}: ${share}\n`);
  };
}

/**
 * Run `scenescope models <subcommand> ...`. Never throws: errors are printed on stderr and turned into an exit code.
 * @param argv the arguments after `models` (for example `['install', '--from', '/media/usb']`).
 * @returns the process exit code: 0 success, 1 failure or not installed as asked, 2 usage error.
 */
export async function runModelsCommand(argv: string[], io: ModelsCommandIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        models: { type: 'string' },
        from: { type: 'string' },
        'base-url': { type: 'string' },
        'include-optional': { type: 'boolean' },
        quick: { type: 'boolean' },
        all: { type: 'boolean' },
        manifest: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return reportError(io, new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), 'models'), false);
  }
  const { values, positionals } = parsed;
  const [sub, ...ids] = positionals;
  if (values.help === true || sub === undefined || sub === 'help') {
    (values.help === true || sub === 'help' ? io.stdout : io.stderr).write(USAGE);
    return values.help === true || sub === 'help' ? 0 : 2;
  }
  const debug = values.debug === true;
  delete values.debug;
  const usage = (message: string): number => reportError(io, new UsageError(`models ${sub}: ${message}`, 'models'), false);
  const allowed: Record<string, readonly string[]> = {
    list: ['models', 'quick', 'all', 'manifest', 'json'],
    install: ['models', 'from', 'manifest', 'json'],
    fetch: ['models', 'base-url', 'include-optional', 'manifest', 'json'],
  };
  const accepted = allowed[sub];
  if (accepted === undefined) return usage(`unknown subcommand "${sub}"`);
  const stray = Object.keys(values).find((k) => !accepted.includes(k));
  if (stray !== undefined) return usage(`--${stray} does not apply to "${sub}"`);
  if (sub === 'list' && ids.length > 0) return usage('list takes no ids');
  if (sub === 'install' && values.from === undefined) return usage('--from <dir> is required');

  try {
    const manifest: ModelEntry[] = loadManifest(values.manifest);
    const modelsDir = values.models ?? defaultModelsDir(io.env);
    const json = values.json === true;
    if (sub === 'list') {
      // Only what the pipeline uses counts: an unused entry reported "missing" would send people installing it.
      const statuses: ModelStatus[] = [];
      const entries = selectEntries(manifest, undefined).filter((e) => values.all === true || e.unused === undefined);
      for (const entry of entries) statuses.push(await checkModel(entry, { modelsDir, verify: values.quick !== true }));
      const unused = new Map(entries.filter((e) => e.unused !== undefined).map((e) => [e.id, e.unused!]));
      const listed: (ModelStatus & { unused?: string })[] = statuses.map((s) => {
        const why = unused.get(s.id);
        return why === undefined ? s : { ...s, unused: why };
      });
      io.stdout.write(json ? JSON.stringify({ modelsDir, models: listed }, null, 2) + '\n' : listText(modelsDir, listed));
      return 0;
    }
    const report =
      sub === 'install'
        ? await installModels({ from: values.from!, modelsDir, ids, manifest, ...(json ? {} : { onProgress: progressPrinter(io, 'copy') }) })
        : await fetchModels({
            modelsDir,
            ids,
            manifest,
            env: io.env,
            includeOptional: values['include-optional'] === true,
            ...(values['base-url'] === undefined ? {} : { baseUrl: values['base-url'] }),
            ...(json ? {} : { onProgress: progressPrinter(io, 'download') }),
          });
    io.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : reportText(sub === 'install' ? 'installed' : 'downloaded', report));
    return report.ok ? 0 : 1;
  } catch (error) {
    // The shared error line; the root cause (DNS, TLS, refused connection) is appended, --debug adds stacks.
    return reportError(io, error, debug);
  }
}
