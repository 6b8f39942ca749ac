/**
 * Resolves where the database lives before Nest starts: DATABASE_URL, or the embedded PGlite
 * server (started here, stopped last on shutdown). Waits a bounded time for a DATABASE_URL that
 * does not answer yet, and runs migrations under an advisory lock so several instances can start
 * against one database at once.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
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

/** DATABASE_URL could not be used: one line naming it and why, never its password. */
export class DatabaseUnavailableError extends DomainError {
  constructor(url: string, reason: string) {
    super(
      'SERVICE_UNAVAILABLE',
      `Cannot start: DATABASE_URL (${describeDatabaseUrl(url)}) ${reason}`,
    );
  }
}

export interface DatabaseRetry {
  attempt: number;
  reason: string;
  retryInMs: number;
}

/** Network errors and server states that end by themselves: the server is starting or busy. */
const HEALS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '57P01', // admin_shutdown
  '53300', // too_many_connections
]);
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to DATABASE_URL once, retrying while the failure can heal (connection refused, the
 * server starting up) for at most `waitSeconds`, with `onRetry` told of each failed attempt. A
 * failure that waiting cannot fix (wrong password, unknown user or database, a host that does not
 * resolve) fails at once. Rejects with DatabaseUnavailableError.
 */
export async function waitForDatabase(
  url: string,
  waitSeconds: number,
  onRetry: (retry: DatabaseRetry) => void = () => undefined,
): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1_000;
  for (let attempt = 1; ; attempt += 1) {
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      const { reason, heals } = classifyConnectError(error, url);
      const retryInMs = Math.min(1_000 * 2 ** (attempt - 1), 5_000, deadline - Date.now());
      if (!heals) throw new DatabaseUnavailableError(url, `was refused: ${reason}`);
      if (retryInMs <= 0) {
        throw new DatabaseUnavailableError(
          url,
          `is not reachable: ${reason} (gave up after ${waitSeconds} s; DATABASE_WAIT_SECONDS)`,
        );
      }
      onRetry({ attempt, reason, retryInMs });
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function classifyConnectError(error: unknown, url: string): { reason: string; heals: boolean } {
  const e = error as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'connection timed out',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed for now',
  };
  const timedOut = /timeout/i.test(e?.message ?? '') && !code;
  const terminated = /Connection terminated/i.test(e?.message ?? '') && !code;
  // A server's own message (e.g. 'password authentication failed for user "app"') never holds
  // the password; anything else is scrubbed of it in case a driver ever echoes the URL.
  const message = (words[code] ?? (e?.message || String(error))).replace(/\s+/g, ' ');
  return {
    reason: scrubPassword(code && !words[code] ? `${message} (${code})` : message, url),
    heals: HEALS.has(code) || code.startsWith('08') || timedOut || terminated,
  };
}

function scrubPassword(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password ? text.split(password).join('***') : text;
}

/** host:port/database and user, for messages: never the password or query parameters. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default)';
    const user = decodeURIComponent(parsed.username) || '(default)';
    return `${parsed.host || 'local socket'}, database "${database}", user "${user}"`;
  } catch {
    return 'unparsable';
  }
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
