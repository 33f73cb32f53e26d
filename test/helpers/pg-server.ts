/**
 * A throwaway PostgreSQL server for the store tests: `initdb` into a temp folder, `pg_ctl start` on a free
 * loopback port with its unix socket in the same folder, trust authentication, one database per call of
 * {@link PgServer.database}. initdb refuses to run as root, so as root the server runs as the `postgres`
 * system user (`runuser -u postgres --`) in a folder it owns. Tests skip (with the reason from
 * {@link pgUnavailable}) when the binaries are not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where Debian and most distributions put the server binaries; PG_BIN overrides. */
function binDir(): string | null {
  const explicit = process.env['PG_BIN'];
  if (explicit !== undefined && explicit !== '') return existsSync(path.join(explicit, 'initdb')) ? explicit : null;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  }
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUser(): { uid: number; gid: number } | null {
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (result.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Why a server cannot be started here, or null when it can. */
export function pgUnavailable(): string | null {
  const bin = binDir();
  if (bin === null) return 'PostgreSQL server binaries (initdb, pg_ctl) are not installed (Debian: apt-get install postgresql)';
  if (isRoot && postgresUser() === null) return 'running as root and there is no "postgres" system user to run initdb as';
  return null;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A running server. */
export interface PgServer {
  readonly port: number;
  readonly host: string;
  /** The data folder (inside a temp folder removed by stop()). */
  readonly dataDir: string;
  /** `postgres://postgres@host:port/postgres`. */
  readonly adminUrl: string;
  /** Create a fresh empty database and return its URL. */
  database(name?: string): string;
  /** Stop the server (immediate shutdown) and remove its folder. Idempotent. */
  stop(): void;
}

let counter = 0;

/**
 * Start a server. `listen` adds addresses to listen on beside 127.0.0.1 (the multi-host test's veth address).
 * @throws when initdb or pg_ctl fail (their output in the message).
 */
export async function startPgServer(options: { listen?: string[] } = {}): Promise<PgServer> {
  const bin = binDir();
  if (bin === null) throw new Error(pgUnavailable() ?? 'no PostgreSQL');
  const root = mkdtempSync(path.join(tmpdir(), 'scenescope-pg-'));
  const dataDir = path.join(root, 'data');
  const owner = isRoot ? postgresUser() : null;
  if (owner !== null) {
    chownSync(root, owner.uid, owner.gid);
    chmodSync(root, 0o700);
  }
  const run = (command: string, args: string[]): string => {
    const [file, argv] = owner !== null ? ['runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]] : [path.join(bin, command), args];
    try {
      return execFileSync(file, argv as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const addresses = ['127.0.0.1', ...(options.listen ?? [])].join(',');
  // fsync off: a test server never needs to survive a power cut. Small shared_buffers: 9 servers may run.
  const serverOptions = `-c listen_addresses='${addresses}' -p ${port} -k ${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=200`;
  run('pg_ctl', ['-D', dataDir, '-l', path.join(root, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
  if (options.listen !== undefined && options.listen.length > 0) {
    // Trust connections from the test's own private veth addresses too.
    execFileSync('sh', ['-c', `echo 'host all all 0.0.0.0/0 trust' >> ${path.join(dataDir, 'pg_hba.conf')}`]);
    run('pg_ctl', ['-D', dataDir, 'reload']);
  }
  const host = '127.0.0.1';
  const adminUrl = `postgres://postgres@${host}:${port}/postgres`;
  let stopped = false;
  const server: PgServer = {
    port,
    host,
    dataDir,
    adminUrl,
    database(name?: string): string {
      const db = name ?? `t${process.pid}_${++counter}`;
      run('createdb', ['-h', root, '-p', String(port), '-U', 'postgres', db]);
      return `postgres://postgres@${host}:${port}/${db}`;
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone; the folder still goes.
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return server;
}
