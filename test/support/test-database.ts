/**
 * A database of one test's own, reachable by URL from several apps, processes and the CLI:
 * with DATABASE_URL (CI's PostgreSQL run) a fresh sibling database on that server, dropped
 * afterwards; otherwise an in-memory PGlite served on loopback.
 *
 * Apps of different test files must not share pg-boss queues: a worker of one app would take
 * another app's reply jobs, whose credentials it cannot decrypt.
 */
import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PgliteServer } from '../../src/database/pglite-server';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database on the DATABASE_URL server. */
export async function createSiblingDatabase(
  serverUrl: string,
  label = 'test',
): Promise<TestDatabase> {
  const name = `sms_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const shared = process.env.DATABASE_URL;
  if (shared) return createSiblingDatabase(shared, label);
  const pglite = await PGlite.create();
  const server = new PgliteServer(pglite);
  const port = await server.listen('127.0.0.1', 0);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async drop() {
      await server.close();
      await pglite.close();
    },
  };
}
