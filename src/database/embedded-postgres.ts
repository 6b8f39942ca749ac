/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: PGlite served on a loopback port (see
 * pglite-server.ts), so TypeORM, pg-boss and the CLI all speak the same `pg` protocol as in
 * production.
 *
 * A data directory can be opened by one process only, so the serving process writes
 * `<dataDir>.server.json` ({pid, port}); the CLI connects to that server when it is alive instead of
 * opening the directory a second time.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteServer } from './pglite-server';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const IN_MEMORY = 'memory://';

/** A throwaway database that lives and dies with the process that opened it. */
export const isInMemoryDataDir = (dataDir: string): boolean => dataDir.startsWith(IN_MEMORY);

function serverFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.server.json`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The URL of an embedded server another live process already serves for this directory. */
export function findRunningEmbeddedServer(dataDir: string): string | null {
  if (isInMemoryDataDir(dataDir)) return null;
  const file = serverFile(dataDir);
  if (!existsSync(file)) return null;
  try {
    const { pid, port } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; port: number };
    if (pid !== process.pid && isAlive(pid))
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
  } catch {
    return null;
  }
  return null;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const inMemory = isInMemoryDataDir(dataDir);
  if (!inMemory) mkdirSync(dirname(dataDir), { recursive: true });
  const db = await PGlite.create(inMemory ? undefined : dataDir);
  // Many pooled connections share the one PGlite session, taking turns statement by statement
  // and transaction by transaction, so TypeORM and pg-boss pools behave as against a server.
  const server = new PgliteServer(db);
  const port = await server.listen('127.0.0.1', 0);
  if (!inMemory) writeFileSync(serverFile(dataDir), JSON.stringify({ pid: process.pid, port }));
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      // close() checkpoints and flushes the data directory, so Ctrl-C leaves it consistent.
      await db.close();
      if (!inMemory) rmSync(serverFile(dataDir), { force: true });
    },
  };
}
