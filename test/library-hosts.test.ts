/**
 * Workers on several hosts, for real: three network namespaces joined to this one by veth links (private
 * 10.77.x.0/24 addresses on those links only), a scenescope worker in each against a PostgreSQL server that
 * listens on the host side of the links, the real engine (probe + detect). One worker is SIGKILLed mid-job
 * and another's link is cut mid-job: every job completes exactly once with the scenes detectScenes gives,
 * nothing is left claimed, and a `cancel` run on the third host stops a running job within a second.
 * Needs root, iproute2 and PostgreSQL; skipped with the reason otherwise. Namespaces are always removed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, suite, test } from 'node:test';
import { detectScenes } from '../src/api/detect.js';
import { openLibrary, type Library } from '../src/library/library.js';
import { exited, ffmpegOrNull, makeClip, until, WORKER_ENTRY } from './library-helpers.js';
import { pgUnavailable, startPgServer, type PgServer } from './helpers/pg-server.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;
const skip = !isRoot
  ? 'needs root to create network namespaces'
  : !hasIp
    ? 'iproute2 (ip) is not installed'
    : (pgUnavailable() ?? (ffmpegOrNull() === null ? 'ffmpeg is not available' : null));

const tag = `s${process.pid % 100000}`;
const hosts = ['a', 'b', 'c'].map((name, i) => ({
  name,
  ns: `${tag}${name}`,
  hostIf: `${tag}${name}h`,
  nsIf: `${tag}${name}n`,
  hostAddress: `10.77.${i + 1}.1`,
  nsAddress: `10.77.${i + 1}.2`,
}));
const dir = mkdtempSync(path.join(tmpdir(), 'scenescope-hosts-'));
let server: PgServer | null = null;
let library: Library | null = null;
const children: ChildProcess[] = [];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function teardownNetwork(): void {
  for (const h of hosts) {
    spawnSync('ip', ['netns', 'del', h.ns], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', h.hostIf], { stdio: 'ignore' });
  }
}

before(async () => {
  if (skip !== null) return;
  teardownNetwork();
  for (const h of hosts) {
    ip('netns', 'add', h.ns);
    ip('link', 'add', h.hostIf, 'type', 'veth', 'peer', 'name', h.nsIf);
    ip('link', 'set', h.nsIf, 'netns', h.ns);
    ip('addr', 'add', `${h.hostAddress}/24`, 'dev', h.hostIf);
    ip('link', 'set', h.hostIf, 'up');
    ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.nsAddress}/24`, 'dev', h.nsIf);
    ip('netns', 'exec', h.ns, 'ip', 'link', 'set', h.nsIf, 'up');
    ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  server = await startPgServer({ listen: hosts.map((h) => h.hostAddress) });
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map((c) => exited(c)));
  await library?.close();
  server?.stop();
  if (skip === null) teardownNetwork();
  rmSync(dir, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  output: () => string;
  events: () => Array<Record<string, unknown>>;
}

/** A worker process inside a host's namespace, talking to the server over that host's link. */
function startWorker(h: (typeof hosts)[number], database: string): Worker {
  const url = `postgres://postgres@${h.hostAddress}:${server!.port}/${database}`;
  const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, WORKER_ENTRY, 'worker', '--library', url, '--lease-ms', '2000', '--poll-ms', '100', '--json'], {
    env: { ...process.env, XDG_DATA_HOME: path.join(dir, `home-${h.name}`), SCENESCOPE_LIBRARY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    output: () => output,
    events: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** The job a worker process (by pid) holds now, or null. */
async function heldBy(lib: Library, pid: number | undefined): Promise<string | null> {
  const workers = await lib.store.liveWorkers(60_000);
  const ids = new Set(workers.filter((w) => w.pid === pid).map((w) => w.worker_id));
  const running = await lib.store.listJobs({ statuses: ['processing'], limit: 100 });
  return running.find((j) => j.worker_id !== null && ids.has(j.worker_id))?.job_id ?? null;
}

suite('workers on three hosts (network namespaces) sharing one PostgreSQL library', { skip: skip ?? false }, () => {
  test('SIGKILL of one worker and a cut link of another mid-job: every job completes once with detect\'s scenes; cancel from a third host stops a job within a second', async () => {
    const database = path.basename(server!.database());
    const url = `postgres://postgres@127.0.0.1:${server!.port}/${database}`;
    const lib = await openLibrary({ database: url, workers: 0 });
    library = lib;
    const sources = [
      ['testsrc2', 'smptebars', 'rgbtestsrc'],
      ['smptebars', 'testsrc', 'testsrc2'],
      ['rgbtestsrc', 'smptehdbars', 'testsrc'],
      ['testsrc', 'testsrc2', 'smptehdbars'],
      ['smptehdbars', 'rgbtestsrc', 'smptebars'],
      ['testsrc2', 'testsrc', 'smptebars'],
    ];
    const clips = sources.map((s, i) => {
      const file = path.join(dir, `clip-${i}.mp4`);
      makeClip(file, s, 2);
      return file;
    });
    const jobs = new Map<string, string>();
    for (const clip of clips) {
      const upload = await lib.media.upload(clip, { analysisType: 'scenes' });
      jobs.set(upload.analysis_job_id!, clip);
    }

    const [ha, hb, hc] = hosts as [(typeof hosts)[number], (typeof hosts)[number], (typeof hosts)[number]];
    const a = startWorker(ha, database);
    const b = startWorker(hb, database);
    const killedJob = await until(() => heldBy(lib, a.child.pid), 30_000, 'worker a to hold a job');
    a.child.kill('SIGKILL');
    const cutJob = await until(() => heldBy(lib, b.child.pid), 30_000, 'worker b to hold a job');
    ip('link', 'set', hb.hostIf, 'down');
    const c = startWorker(hc, database);

    try {
      await until(
        async () => {
          for (const id of jobs.keys()) if ((await lib.store.getJob(id))?.status !== 'completed') return false;
          return true;
        },
        90_000,
        'every job to complete',
      );
    } catch (error) {
      // Say which job is stuck where, and what each worker printed last, so a rare timeout can be explained.
      const states = await Promise.all([...jobs.keys()].map(async (id) => {
        const j = await lib.store.getJob(id);
        return `${id}: ${j?.status} attempts ${j?.attempts} worker ${j?.worker_id} step "${j?.current_step}" error ${j?.error_code ?? '-'} ${j?.error_message ?? ''}`;
      }));
      const tails = ([['a', a], ['b', b], ['c', c]] as const).map(([n, w]) => `--- worker ${n} (exit ${w.child.exitCode ?? w.child.signalCode ?? 'running'}):\n${w.output().slice(-1500)}`);
      throw new Error(`${(error as Error).message}\n${states.join('\n')}\n${tails.join('\n')}`, { cause: error });
    }
    // Every job completed exactly once, by one worker's completeJob, whoever started it.
    const completions = [...a.events(), ...b.events(), ...c.events()].filter((e) => e.event === 'completed').map((e) => e.analysis_job_id as string);
    assert.deepEqual([...completions].sort(), [...jobs.keys()].sort(), 'one completed event per job');
    for (const [id, clip] of jobs) {
      const job = (await lib.store.getJob(id))!;
      assert.equal(job.claim_token, null, `${id} is left claimed`);
      assert.equal(job.worker_id, null);
      const expected = await detectScenes(clip);
      const scenes = (await lib.videoScenes.list(job.media_id, { limit: 100 })).items;
      assert.deepEqual(scenes.map((s) => [s.start_time, s.end_time]), expected.scenes.map((s) => [s.start_time, s.end_time]), clip);
    }
    const killed = (await lib.store.getJob(killedJob))!;
    const cut = (await lib.store.getJob(cutJob))!;
    assert.ok(killed.lease_losses >= 1 || killed.attempts >= 2, 'the SIGKILLed worker\'s job was taken over');
    assert.ok(cut.attempts >= 2, 'the cut-off worker\'s job was taken over');
    assert.equal(b.events().some((e) => e.event === 'completed' && e.analysis_job_id === cutJob), false, 'the cut-off worker did not complete its job');

    // Cancel from the third host while a job runs on it.
    const long = path.join(dir, 'long.mp4');
    makeClip(long, ['testsrc2', 'smptebars', 'testsrc', 'rgbtestsrc'], 60, { size: '320x240' });
    const upload = await lib.media.upload(long, { analysisType: 'scenes' });
    const longJob = upload.analysis_job_id!;
    await until(async () => (await lib.store.getJob(longJob))?.current_step?.startsWith('Detecting scenes (') === true, 30_000, 'the long job to be detecting');
    const cancelUrl = `postgres://postgres@${hc.hostAddress}:${server!.port}/${database}`;
    const cancel = spawnSync('ip', ['netns', 'exec', hc.ns, process.execPath, WORKER_ENTRY, 'cancel', longJob, '--library', cancelUrl, '--json'], { encoding: 'utf8' });
    const cancelledAt = Date.now();
    assert.equal(cancel.status, 0, cancel.stderr);
    assert.equal((JSON.parse(cancel.stdout) as { status: string }).status, 'cancelled');
    await until(() => c.events().some((e) => e.event === 'cancelled' && e.analysis_job_id === longJob), 5000, 'the worker to stop the cancelled job');
    const stoppedAfter = Date.now() - cancelledAt;
    assert.ok(stoppedAfter < 1000, `the running job stopped ${stoppedAfter} ms after the cancel`);
    process.stdout.write(`# multi-host: killed ${killedJob} (attempts ${killed.attempts}), cut ${cutJob} (attempts ${cut.attempts}), cancel stopped the job in ${stoppedAfter} ms\n`);

    for (const w of [b, c]) w.child.kill('SIGKILL');
  });
});
