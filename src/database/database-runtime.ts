/**
 * Resolves where the database lives before Nest starts: DATABASE_URL, or the embedded PGlite
 * server (started here, stopped last on shutdown). Also runs migrations under an advisory lock so
 * several instances can start against one database at once.
 */
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import {
  EmbeddedPostgres,
  findRunningEmbeddedServer,
  startEmbeddedPostgres,
} from './embedded-postgres';

export interface DatabaseRuntime {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const MIGRATION_LOCK = 7_202_611; // any constant shared by every instance

export async function openDatabase(
  config: Pick<AppConfig, 'databaseUrl' | 'pgliteDataDir'>,
  { reuseRunningEmbedded = false } = {},
): Promise<DatabaseRuntime> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const running = reuseRunningEmbedded ? findRunningEmbeddedServer(config.pgliteDataDir) : null;
  if (running) return { url: running, embedded: true, stop: async () => {} };
  const server: EmbeddedPostgres = await startEmbeddedPostgres(config.pgliteDataDir);
  return { url: server.url, embedded: true, stop: () => server.stop() };
}

export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource({ ...dataSourceOptions(url), extra: { max: 2 } });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
