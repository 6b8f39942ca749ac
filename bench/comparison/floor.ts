/**
 * Comparison server "floor": the least work that still loses nothing. node:http, the Twilio
 * signature check with the token looked up in memory, and ONE statement that stores the message
 * idempotently (unique MessageSid) and queues its job in the same transaction. If it answers 200,
 * the message and its job are committed; a retried webhook stores nothing twice.
 *
 * Env: PORT, PUBLIC_BASE_URL, FLOOR_SENDERS_FILE (JSON [{phoneNumber, accountSid, authToken}]),
 * DATABASE_URL or else FLOOR_PGLITE_DATA_DIR: an embedded PGlite served in this process through
 * the app's own PgliteServer, exactly as the app serves its embedded database to itself.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Pool } from 'pg';
import twilio from 'twilio';
import { WEBHOOK_PATH } from '../../src/common/sms';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/database/embedded-postgres';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const MAX_BODY_BYTES = 64 * 1024;

const STORE_AND_QUEUE = `
  WITH message AS (
    INSERT INTO bench_floor_messages (message_sid, account_sid, from_number, to_number, body)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (message_sid) DO NOTHING
    RETURNING id
  )
  INSERT INTO bench_floor_jobs (message_id) SELECT id FROM message`;

interface Sender {
  phoneNumber: string;
  accountSid: string;
  authToken: string;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 0);
  const publicUrl = `${process.env.PUBLIC_BASE_URL}${WEBHOOK_PATH}`;
  const senders = new Map<string, Sender>(
    (JSON.parse(readFileSync(process.env.FLOOR_SENDERS_FILE!, 'utf8')) as Sender[]).map((s) => [
      s.phoneNumber,
      s,
    ]),
  );

  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(process.env.FLOOR_PGLITE_DATA_DIR ?? 'memory://');
    databaseUrl = embedded.url;
  }
  // The same pool size as the app's TypeORM pool.
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(`
    DROP TABLE IF EXISTS bench_floor_jobs;
    DROP TABLE IF EXISTS bench_floor_messages;
    CREATE TABLE bench_floor_messages (
      id bigserial PRIMARY KEY,
      message_sid text NOT NULL UNIQUE,
      account_sid text NOT NULL,
      from_number text NOT NULL,
      to_number text NOT NULL,
      body text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE bench_floor_jobs (
      id bigserial PRIMARY KEY,
      message_id bigint NOT NULL REFERENCES bench_floor_messages (id),
      created_at timestamptz NOT NULL DEFAULT now()
    );`);

  const reply = (response: http.ServerResponse, status: number, body = '') => {
    response.writeHead(status, { 'content-type': 'text/xml' });
    response.end(body);
  };

  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== WEBHOOK_PATH) return reply(response, 404);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      const signature = request.headers['x-twilio-signature'];
      const sender = senders.get(params.To ?? '');
      if (
        typeof signature !== 'string' ||
        !request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ||
        !sender ||
        sender.accountSid !== params.AccountSid ||
        !params.MessageSid ||
        !twilio.validateRequest(sender.authToken, signature, publicUrl, params)
      ) {
        return reply(response, 403);
      }
      pool
        .query(STORE_AND_QUEUE, [
          params.MessageSid,
          params.AccountSid,
          params.From ?? '',
          params.To,
          params.Body ?? '',
        ])
        // 503 on a database failure: Twilio retries, so nothing is lost.
        .then(
          () => reply(response, 200, EMPTY_TWIML),
          () => reply(response, 503),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.stdout.write(
    JSON.stringify({
      msg: 'listening',
      server: 'floor',
      port,
      database: embedded ? 'embedded PGlite' : 'DATABASE_URL',
    }) + '\n',
  );
  process.on('SIGTERM', () => {
    server.close();
    void pool
      .end()
      .then(() => embedded?.stop())
      .finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed: ${String(error)}\n`);
  process.exit(1);
});
