/**
 * Per-statement cost from pg_stat_statements (BENCH_STATEMENTS=1): which statements a run's
 * database executed, how often, and their execution time, to tell the webhook's own statement
 * from what runs beside it (the reply workers' claims, pg-boss's maintenance). Needs
 * `shared_preload_libraries = 'pg_stat_statements'` on the server; without it, a note and nothing.
 */
import type { Pool } from 'pg';

export interface StatementCost {
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  /** Shared buffers hit + read per call. */
  buffersPerCall: number;
  query: string;
}

/** Creates the extension in `db`'s database and resets the counters; false if unavailable. */
export async function resetStatements(db: Pool): Promise<boolean> {
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('SELECT pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

/** The statements of `db`'s database since the last reset, most execution time first. */
export async function topStatements(db: Pool, limit = 12): Promise<StatementCost[]> {
  const { rows } = await db.query<StatementCost>(
    `SELECT calls::int, total_exec_time::float8 AS "totalMs", mean_exec_time::float8 AS "meanMs",
        rows::int, ((shared_blks_hit + shared_blks_read)::float8 / GREATEST(calls, 1)) AS "buffersPerCall",
        regexp_replace(query, '\\s+', ' ', 'g') AS query
     FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

/** A table: calls, total and mean execution ms, execution ms per webhook, rows, buffers, query. */
export function formatStatements(costs: StatementCost[], webhooks: number): string {
  const pad = (value: string, width: number) => value.padStart(width);
  const lines = costs.map(
    (c) =>
      `${pad(String(c.calls), 8)} ${pad(c.totalMs.toFixed(0), 8)} ${pad(c.meanMs.toFixed(3), 8)} ` +
      `${pad(webhooks ? (c.totalMs / webhooks).toFixed(3) : '-', 8)} ${pad(String(c.rows), 8)} ` +
      `${pad(c.buffersPerCall.toFixed(1), 7)}  ${c.query.slice(0, 110)}`,
  );
  return [
    `${pad('calls', 8)} ${pad('total ms', 8)} ${pad('mean ms', 8)} ${pad('ms/webhk', 8)} ${pad('rows', 8)} ${pad('buf/call', 7)}  query`,
    ...lines,
  ].join('\n');
}
