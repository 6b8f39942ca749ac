import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { Pool } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { keyIdOf } from '../src/modules/crypto/credential-cipher';
import { ApiKeysService } from '../src/modules/organizations/api-keys.service';
import {
  freePort,
  type ProcessRun,
  runUntilExit,
  startAppProcess,
  stopAllProcesses,
  waitFor,
} from './support/app-process';
import { startRefusingPostgres } from './support/refusing-postgres';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';
import { TwilioDouble } from '../tools/twilio-double';

describe('platform: health, auth, errors, docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_SIZE: '3' });
  });
  afterAll(() => t.close());

  it('sizes its pool by DATABASE_POOL_SIZE', () => {
    const pool = (t.running.app.get(DataSource).driver as PostgresDriver).master as Pool;
    expect(pool.options.max).toBe(3);
  });

  it('GET /api/health answers ok without a key', async () => {
    const res = await request(t.http).get('/api/health').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  describe('API key guard', () => {
    it('refuses a missing key with 401 in the contract shape', async () => {
      const res = await request(t.http).get('/api/chatbots').expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });

    it('refuses a malformed or unknown key', async () => {
      await request(t.http).get('/api/chatbots').set('Authorization', 'Bearer nope').expect(401);
      const { apiKey } = await t.createOrganization();
      const forged = apiKey.slice(0, -4) + 'AAAA';
      await request(t.http)
        .get('/api/chatbots')
        .set('Authorization', `Bearer ${forged}`)
        .expect(401);
      await request(t.http).get('/api/chatbots').set('Authorization', apiKey).expect(401);
    });

    it('accepts a valid key and refuses it once revoked', async () => {
      const { apiKey } = await t.createOrganization();
      await authed(t.http, apiKey).get('/api/chatbots').expect(200);
      await t.running.app.get(ApiKeysService).revoke(apiKey);
      const res = await authed(t.http, apiKey).get('/api/chatbots').expect(401);
      expectError(res.body, 401, 'UNAUTHORIZED');
    });

    it('stores only a hash of the key', async () => {
      const { apiKey } = await t.createOrganization();
      const rows: unknown[] = await t.running.app
        .get(DataSource)
        .query("SELECT prefix, encode(hash, 'hex') AS hash FROM api_keys");
      expect(JSON.stringify(rows)).not.toContain(apiKey);
      expect(JSON.stringify(rows)).not.toContain(apiKey.split('_').pop());
    });
  });

  describe('error shape', () => {
    it('unknown routes answer 404 NOT_FOUND', async () => {
      const res = await request(t.http).get('/api/does-not-exist').expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
    });

    it('malformed JSON answers 400 MALFORMED_BODY', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .set('Content-Type', 'application/json')
        .send('{"name": ')
        .expect(400);
      expectError(res.body, 400, 'MALFORMED_BODY');
    });

    it('a JSON body over 100 kB answers 413 PAYLOAD_TOO_LARGE', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .send({ name: 'x', systemPrompt: 'a'.repeat(110 * 1024) })
        .expect(413);
      expectError(res.body, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a form body over 64 kB answers 413', async () => {
      const res = await request(t.http)
        .post('/api/webhooks/twilio/sms')
        .type('form')
        .send({ Body: 'a'.repeat(70 * 1024) })
        .expect(413);
      expectError(res.body, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('class-validator failures answer 400 VALIDATION_FAILED with per-field details', async () => {
      const { apiKey } = await t.createOrganization();
      const res = await authed(t.http, apiKey)
        .post('/api/chatbots')
        .send({ name: 42, extra: true })
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      const fields = (res.body.details as { field: string }[]).map((d) => d.field).sort();
      expect(fields).toEqual(['extra', 'name']);
    });
  });

  it('serves the OpenAPI documents with bearer auth declared, and their Swagger UIs', async () => {
    const res = await request(t.http).get('/api/docs-json').expect(200);
    expect(res.body.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(Object.keys(res.body.paths)).toContain('/api/health');
    const webhooks = await request(t.http).get('/api/docs-webhooks-json').expect(200);
    const webhook = webhooks.body.paths['/api/webhooks/twilio/sms'].post;
    expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(['200', '403', '503']));
    expect(webhook.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'X-Twilio-Signature', in: 'header' }),
      ]),
    );
    // The webhook authenticates by signature, not bearer; dashboard routes need the bearer key.
    expect(webhook.security).toEqual([{}]);
    expect(res.body.paths['/api/chatbots'].get.security).toEqual([{ bearer: [] }]);
    await request(t.http).get('/api/docs').expect(200).expect('Content-Type', /html/);
    await request(t.http).get('/api/docs-webhooks').expect(200).expect('Content-Type', /html/);
  });

  it('sets helmet security headers, except on the Twilio webhooks, whose answers no browser reads', async () => {
    const res = await request(t.http).get('/api/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const webhook = await request(t.http)
      .post('/api/webhooks/twilio/sms')
      .type('form')
      .send({ Body: 'hi' })
      .expect(403);
    expect(webhook.headers['x-content-type-options']).toBeUndefined();
    expect(webhook.headers['content-security-policy']).toBeUndefined();
    expect(webhook.headers['x-powered-by']).toBeUndefined();
  });

  it('never logs the Authorization header', async () => {
    const { apiKey } = await t.createOrganization();
    await authed(t.http, apiKey).get('/api/chatbots');
    expect(t.logs.join('')).not.toContain(apiKey);
  });

  it('logs each request with its method, path and status, without response headers', async () => {
    const { apiKey } = await t.createOrganization();
    await authed(t.http, apiKey).get('/api/chatbots?limit=5').expect(200);
    const line = t.logs
      .map((raw) => JSON.parse(raw) as { msg?: string; req?: { url?: string }; res?: unknown })
      .filter((entry) => entry.msg === 'request completed' && entry.req?.url === '/api/chatbots')
      .pop();
    expect(line).toMatchObject({ req: { method: 'GET' }, res: { statusCode: 200 } });
    expect(line?.res).toEqual({ statusCode: 200 });
  });
});

/**
 * Starts that must be refused, as real processes (`node src/main.ts`, NODE_ENV=production): one
 * line on stderr naming the variable, exit code 1, no stack trace, and no secret from the
 * variable anywhere in the output.
 */
describe('platform: refusing to start', () => {
  const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
  const NOT_RUNNING = 'http://127.0.0.1:9';
  afterAll(() => stopAllProcesses());

  /** The refusal as one line; the run must have ended by itself with exit code 1. */
  function refusal(run: ProcessRun, ...secrets: string[]): string {
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 1, signal: null });
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
    return lines[0];
  }
  const retryLines = (run: ProcessRun) =>
    run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; reason?: string; attempt?: number })
      .filter((line) => line.msg === 'database not reachable yet; retrying');

  it('DATABASE_URL at a closed port: a log line per attempt, then one line naming it, without the password', async () => {
    const url = `postgres://app:${PASSWORD}@127.0.0.1:${await freePort()}/sms`;
    const run = await runUntilExit({
      databaseUrl: url,
      twilioApiBaseUrl: NOT_RUNNING,
      env: { DATABASE_WAIT_SECONDS: '2' },
    });
    const line = refusal(run, PASSWORD);
    expect(line).toMatch(
      /^Cannot start: DATABASE_URL \(127\.0\.0\.1:\d+, database "sms", user "app"\)/,
    );
    expect(line).toContain('connection refused');
    expect(line).toContain('DATABASE_WAIT_SECONDS');
    const retries = retryLines(run);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries.map((r) => [r.attempt, r.reason])[0]).toEqual([1, 'connection refused']);
  });

  it('a wrong password is refused at once: no retries, one line, the password never shown', async () => {
    const server = await startRefusingPostgres(({ user }) => ({
      code: '28P01',
      message: `password authentication failed for user "${user}"`,
    }));
    try {
      const run = await runUntilExit({
        databaseUrl: server.url('app', PASSWORD, 'sms'),
        twilioApiBaseUrl: NOT_RUNNING,
        env: { DATABASE_WAIT_SECONDS: '60' },
      });
      // The server did get the password: the process had it, and still printed it nowhere.
      expect(server.passwords).toContain(PASSWORD);
      const line = refusal(run, PASSWORD);
      expect(line).toContain('DATABASE_URL');
      expect(line).toContain('password authentication failed for user "app"');
      expect(retryLines(run)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('an unknown user or database is refused at once, naming DATABASE_URL and the reason', async () => {
    // The real server on the PostgreSQL run; on the embedded run (PGlite takes any user and
    // database) a server that answers what PostgreSQL answers.
    const real = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL) : null;
    const stub = real
      ? null
      : await startRefusingPostgres(({ user, database }) =>
          user === 'nobody_here'
            ? { code: '28000', message: `role "${user}" does not exist` }
            : { code: '3D000', message: `database "${database}" does not exist` },
        );
    const urlFor = (user: string, database: string) =>
      real
        ? `postgres://${user}:${PASSWORD}@${real.host}/${database}`
        : stub!.url(user, PASSWORD, database);
    try {
      const [unknownUser, unknownDatabase] = await Promise.all([
        runUntilExit({
          databaseUrl: urlFor('nobody_here', 'postgres'),
          twilioApiBaseUrl: NOT_RUNNING,
          env: { DATABASE_WAIT_SECONDS: '60' },
        }),
        runUntilExit({
          databaseUrl: urlFor(real ? decodeURIComponent(real.username) : 'postgres', 'no_such_db'),
          twilioApiBaseUrl: NOT_RUNNING,
          env: { DATABASE_WAIT_SECONDS: '60' },
        }),
      ]);
      expect(refusal(unknownUser, PASSWORD)).toMatch(
        /^Cannot start: DATABASE_URL .* was refused: role "nobody_here" does not exist/,
      );
      expect(refusal(unknownDatabase, PASSWORD)).toMatch(
        /^Cannot start: DATABASE_URL .* was refused: database "no_such_db" does not exist/,
      );
      expect([...retryLines(unknownUser), ...retryLines(unknownDatabase)]).toEqual([]);
    } finally {
      await stub?.close();
    }
  });

  it('a database that comes up while the API waits: it starts', async () => {
    const database = await createTestDatabase('platform_wait');
    const target = new URL(database.url);
    // A port that drops every connection until opened, then forwards to the database.
    let open = false;
    let dropped = 0;
    const sockets = new Set<Socket>();
    const gate = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      if (!open) {
        dropped += 1;
        socket.destroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const gated = new URL(database.url);
    gated.port = String((gate.address() as AddressInfo).port);
    try {
      const starting = startAppProcess({
        name: 'waits for its database',
        databaseUrl: gated.toString(),
        twilioApiBaseUrl: NOT_RUNNING,
        env: { DATABASE_WAIT_SECONDS: '120' },
      });
      await waitFor('a refused first attempt', () => dropped > 0, 60_000);
      open = true;
      const app = await starting;
      expect(app.output()).toContain('database not reachable yet; retrying');
      await app.stop();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
      await database.drop();
    }
  });

  it('a malformed SENTRY_DSN: one line naming it, the DSN printed nowhere', async () => {
    const dsn = `https://${randomBytes(16).toString('hex')}@o1.ingest.sentry.example`;
    const run = await runUntilExit({
      databaseUrl: '',
      twilioApiBaseUrl: NOT_RUNNING,
      env: { DATABASE_URL: undefined, PGLITE_DATA_DIR: 'memory://', SENTRY_DSN: dsn },
    });
    const line = refusal(run, dsn, dsn.slice(8, 40));
    expect(line).toMatch(/^Invalid configuration: SENTRY_DSN must be a Sentry DSN/);
  });

  describe('stored credentials under a key this instance lacks', () => {
    let database: TestDatabase;
    let twilio: TwilioDouble;
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);

    beforeAll(async () => {
      [database, twilio] = await Promise.all([
        createTestDatabase('platform_keys'),
        TwilioDouble.start(),
      ]);
      const app = await startTestApp({
        DATABASE_URL: database.url,
        CREDENTIALS_ENCRYPTION_KEY: oldKey.toString('base64'),
        TWILIO_API_BASE_URL: twilio.url,
        REPLY_WORKER_CONCURRENCY: '0',
      });
      try {
        const { apiKey } = await app.createOrganization('starter');
        const bot = await authed(app.http, apiKey).post('/api/chatbots').send({ name: 'Bot' });
        const account = twilio.addAccount();
        twilio.addNumber(account.sid, { phoneNumber: '+358401110001' });
        await authed(app.http, apiKey)
          .put(`/api/chatbots/${bot.body.id}/channels/sms`)
          .send({
            accountSid: account.sid,
            authToken: account.authToken,
            phoneNumber: '+358401110001',
          })
          .expect(200);
      } finally {
        await app.close();
      }
    });
    afterAll(async () => {
      await twilio?.stop();
      await database?.drop();
    });

    it('a new CREDENTIALS_ENCRYPTION_KEY without the old one: refused, naming the missing key id and what to set', async () => {
      const run = await runUntilExit({
        databaseUrl: database.url,
        twilioApiBaseUrl: twilio.url,
        env: { CREDENTIALS_ENCRYPTION_KEY: newKey.toString('base64') },
      });
      const line = refusal(run, oldKey.toString('base64'), newKey.toString('base64'));
      expect(line).toContain(`Invalid configuration: CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS lacks`);
      expect(line).toContain(keyIdOf(oldKey));
      expect(line).toContain('1 in sms_channels.auth_token_encrypted');
    });

    it('with the old key in CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS it starts', async () => {
      const app = await startAppProcess({
        name: 'rotating',
        databaseUrl: database.url,
        twilioApiBaseUrl: twilio.url,
        env: {
          CREDENTIALS_ENCRYPTION_KEY: newKey.toString('base64'),
          CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: oldKey.toString('base64'),
        },
      });
      expect((await app.stop()).code).toBe(0);
    });
  });
});
