/**
 * Opening the SQLite file: the only place with connection settings.
 *
 * - `busy_timeout` first, so that every later statement (including the switch to WAL, which needs a lock)
 *   waits for other processes instead of failing with SQLITE_BUSY.
 * - WAL: readers never block the writer, so the API can read status while workers write progress.
 * - `synchronous = NORMAL`: in WAL mode a crash (even kill -9 or power loss) never corrupts the file; at worst
 *   the last transactions before a power loss are lost, never a half transaction.
 * - `foreign_keys = ON`: scenes, steps and embeddings go with their job/media.
 * - Migrations (see migrations.ts) are applied on open, each in a `BEGIN IMMEDIATE` transaction.
 * - `create: false` (read-only commands) never makes a file: a mistyped path is LIBRARY_NOT_FOUND.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.js';

/** A better-sqlite3 connection (the type stays inside src/store). */
export type SqliteDatabase = Database.Database;

/** Connection settings. */
export interface OpenDatabaseOptions {
  /** How long a statement waits for a lock held by another process, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests pass a longer list). Default {@link MIGRATIONS}. */
  migrations?: readonly Migration[];
  /** Clock, for tests. */
  now?: () => number;
  /** Create the file (and its folder) when missing. Default true; false: LIBRARY_NOT_FOUND instead. */
  create?: boolean;
}

/**
 * Open (creating if needed) a library database file, set WAL, busy timeout and foreign keys, and migrate it.
 * Throws STORE_FAILED when the file cannot be opened, is not a database, or was written by a newer version.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const migrations = options.migrations ?? MIGRATIONS;
  const now = options.now ?? Date.now;
  let db: SqliteDatabase;
  const create = options.create ?? true;
  if (!create && file !== ':memory:' && !existsSync(file)) {
    throw new StoreError('LIBRARY_NOT_FOUND', `No library at ${file} (check --library / SCENESCOPE_LIBRARY, or run "scenescope add" to create one)`, { details: { path: file } });
  }
  try {
    if (file !== ':memory:' && create) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file, { fileMustExist: !create });
  } catch (error) {
    // Installed with --ignore-scripts (or an unapproved install script under npm 11), better-sqlite3 has no
    // compiled module; say so and how to fix it instead of its list of every path it tried.
    if (/Could not locate the bindings file/.test((error as Error).message)) {
      throw new StoreError('STORE_FAILED', `Cannot open the library database ${file}: better-sqlite3's native module is not built (its install script did not run); run "npm rebuild better-sqlite3" (npm 11: "npm install-scripts approve better-sqlite3" first)`, { cause: error, details: { path: file } });
    }
    throw new StoreError('STORE_FAILED', `Cannot open the library database ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
  }
  try {
    db.pragma(`busy_timeout = ${Math.round(options.busyTimeoutMs ?? 5000)}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (file !== ':memory:' && String(mode).toLowerCase() !== 'wal') {
      throw new Error(`journal_mode is ${String(mode)}, WAL could not be enabled`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, now);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('STORE_FAILED', `Cannot open the library database ${file}: ${(error as Error).message}`, { cause: error, details: { path: file } });
  }
}

/** The schema version of an open database. */
export function schemaVersion(db: SqliteDatabase): number {
  return Number(db.pragma('user_version', { simple: true }));
}

function migrate(db: SqliteDatabase, migrations: readonly Migration[], now: () => number): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  for (const migration of migrations) {
    // Re-read the version inside the write lock: another process may have migrated meanwhile.
    const apply = db.transaction(() => {
      const current = schemaVersion(db);
      if (current >= migration.version) return;
      if (current !== migration.version - 1) {
        throw new StoreError('STORE_FAILED', `Library schema is at version ${current}; migration ${migration.version} cannot apply`);
      }
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, now());
      db.pragma(`user_version = ${migration.version}`);
    });
    if (schemaVersion(db) < migration.version) apply.immediate();
  }
  const version = schemaVersion(db);
  if (version > latest) {
    throw new StoreError('STORE_FAILED', `The library database has schema version ${version}, newer than this scenescope (${latest}); upgrade scenescope`, { details: { version, supported: latest } });
  }
}

export { SCHEMA_VERSION };
