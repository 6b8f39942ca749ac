/**
 * What a deployment relies on: liveness and readiness probes (with the database gone, with a
 * migration missing, while draining on SIGTERM), request ids in responses, logs and Sentry, the
 * API_DOCS switch, CORS for the browser dashboard, and what a development start prints.
 */
import { PGlite } from '@electric-sql/pglite';
import * as Sentry from '@sentry/nestjs';
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { PgliteServer } from '../src/database/pglite-server';
import {
  AppProcess,
  ENCRYPTION_KEY,
  freePort,
  REPO_ROOT,
  SharedDatabase,
  startAppProcess,
  startSharedDatabase,
  stopAllProcesses,
  waitFor,
} from './support/app-process';
import { startSentrySink } from './support/sentry-sink';
import {
  connectChannel,
  eventually,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STATUS_PATH = '/api/webhooks/twilio/sms/status';
const WEBHOOK_PATH = '/api/webhooks/twilio/sms';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
  req?: { id?: string; url?: string };
}
const logLines = (t: TestApp): LogLine[] => t.logs.map((raw) => JSON.parse(raw) as LogLine);

describe('probes', () => {
  let pglite: PGlite;
  let server: PgliteServer;
  let port: number;
  let t: TestApp;

  beforeAll(async () => {
    // The test's own database server, so it can be stopped and started again on the same port.
    pglite = await PGlite.create();
    server = new PgliteServer(pglite);
    port = await server.listen('127.0.0.1', 0);
    t = await startTestApp({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      API_RATE_LIMIT_PER_MINUTE: '2',
    });
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
    await pglite?.close();
  });

  it('live, ready and the legacy health check answer 200 {"status":"ok"} without a key', async () => {
    for (const path of ['/api/health/live', '/api/health/ready', '/api/health']) {
      const res = await request(t.http).get(path).expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    }
  });

  it('are not rate-limited and not request-logged', async () => {
    for (let i = 0; i < 5; i += 1) {
      await request(t.http).get('/api/health/live').expect(200);
      await request(t.http).get('/api/health/ready').expect(200);
    }
    const probeLines = logLines(t).filter((line) => line.req?.url?.startsWith('/api/health'));
    expect(probeLines).toEqual([]);
  });

  it('with the database down: live stays 200, ready and /api/health answer 503, and recover', async () => {
    await server.close();
    try {
      await request(t.http).get('/api/health/live').expect(200, { status: 'ok' });
      const ready = await request(t.http).get('/api/health/ready').expect(503);
      expectError(ready.body, 503, 'SERVICE_UNAVAILABLE');
      expect(ready.body.message).toBe('Not ready: database unavailable');
      await request(t.http).get('/api/health').expect(503);
    } finally {
      await server.listen('127.0.0.1', port);
    }
    await eventually(async () => (await request(t.http).get('/api/health/ready')).status === 200);
  });

  it('ready answers 503 while a migration of this build is not applied', async () => {
    const db = t.running.app.get(DataSource);
    const [last] = await db.query(
      'SELECT id, timestamp, name FROM typeorm_migrations ORDER BY timestamp DESC LIMIT 1',
    );
    await db.query('DELETE FROM typeorm_migrations WHERE id = $1', [last.id]);
    try {
      const res = await request(t.http).get('/api/health/ready').expect(503);
      expect(res.body.message).toBe(`Not ready: migrations pending (${last.name})`);
    } finally {
      await db.query('INSERT INTO typeorm_migrations (id, timestamp, name) VALUES ($1, $2, $3)', [
        last.id,
        last.timestamp,
        last.name,
      ]);
    }
    await request(t.http).get('/api/health/ready').expect(200);
  });
});

describe('request ids, the docs switch and CORS', () => {
  const DASHBOARD = 'https://dashboard.example.com';
  let ctx: SmsTestContext;
  let sentry: Awaited<ReturnType<typeof startSentrySink>>;

  beforeAll(async () => {
    sentry = await startSentrySink();
    initSentry(sentry.dsn, 'test');
    ctx = await startSmsTestApp({ API_DOCS: 'off', DASHBOARD_ORIGINS: DASHBOARD });
  });
  afterAll(async () => {
    await ctx?.close();
    await Sentry.close(2_000);
    sentry?.server.close();
  });

  describe('X-Request-Id', () => {
    it('honours a valid incoming id and echoes it', async () => {
      const res = await request(ctx.t.http)
        .get('/api/health/live')
        .set('X-Request-Id', 'lb-7f3a.42:edge')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('lb-7f3a.42:edge');
    });

    it('replaces an invalid one, and answers a request without one, with a new UUID', async () => {
      for (const invalid of ['a'.repeat(129), 'two words', 'quote"s', '']) {
        const res = await request(ctx.t.http).get('/api/health/live').set('X-Request-Id', invalid);
        expect(res.headers['x-request-id']).toMatch(UUID);
      }
      const first = await request(ctx.t.http).get('/api/health/live');
      const second = await request(ctx.t.http).get('/api/health/live');
      expect(first.headers['x-request-id']).toMatch(UUID);
      expect(second.headers['x-request-id']).toMatch(UUID);
      expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    });

    it('even a body the parser refuses answers with its id', async () => {
      const res = await request(ctx.t.http)
        .post('/api/chatbots')
        .set('Content-Type', 'application/json')
        .set('X-Request-Id', 'broken-body-1')
        .send('{"name": ')
        .expect(400);
      expect(res.headers['x-request-id']).toBe('broken-body-1');
    });

    it('is in every log line of its request', async () => {
      await request(ctx.t.http)
        .post(WEBHOOK_PATH)
        .type('form')
        .set('X-Request-Id', 'unsigned-webhook-1')
        .send({ Body: 'hello' })
        .expect(403);
      const lines = logLines(ctx.t).filter((line) => line.req?.id === 'unsigned-webhook-1');
      expect(lines.map((line) => line.msg)).toEqual([
        'Twilio webhook refused',
        'request completed',
      ]);
      // Nothing else carries it: ids are per request.
      expect(ctx.t.logs.filter((raw) => raw.includes('unsigned-webhook-1'))).toHaveLength(2);
    });

    it("is a tag of the Sentry events of its request, and only of that request's", async () => {
      const channel = await connectChannel(ctx);
      const customers = [randomNumber(), randomNumber()];
      for (const customer of customers) await textFromCustomer(ctx, channel, customer, 'hi');
      const replies = await ctx.twilio.waitForMessages(2, 10_000, (m) => customers.includes(m.to));
      const db = ctx.t.running.app.get(DataSource);
      const outbound = async (sid: string) =>
        eventually(
          async () =>
            (
              (await db.query('SELECT id FROM messages WHERE twilio_sid = $1', [sid])) as {
                id: string;
              }[]
            )[0],
        );
      const ids = ['status-callback-a', 'status-callback-b'];
      for (const [i, reply] of replies.entries()) {
        await outbound(reply.sid);
        await signedPost(
          ctx,
          STATUS_PATH,
          {
            MessageSid: reply.sid,
            MessageStatus: 'undelivered',
            ErrorCode: '30003',
            AccountSid: channel.accountSid,
            From: channel.phoneNumber,
            To: reply.to,
          },
          channel.authToken,
        )
          .set('X-Request-Id', ids[i])
          .expect(200);
      }
      await Sentry.flush(2_000);
      for (const [i, reply] of replies.entries()) {
        const { id: messageId } = await outbound(reply.sid);
        const event = await eventually(async () =>
          sentry.envelopes.find((e) => e.includes(messageId) && e.includes('DeliveryFailure')),
        );
        expect(event).toContain(`"request_id":"${ids[i]}"`);
        expect(event).not.toContain(ids[1 - i]);
      }
    });
  });

  it("follows the reply job the webhook queued: the worker's Sentry event carries the webhook's id", async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    ctx.twilio.rejectMessagesWith(21211, "The 'To' number is not a valid phone number.", 400, {
      to: customer,
    });
    await signedPost(
      ctx,
      WEBHOOK_PATH,
      {
        MessageSid: randomMessageSid(),
        AccountSid: channel.accountSid,
        From: customer,
        To: channel.phoneNumber,
        Body: 'hello',
      },
      channel.authToken,
    )
      .set('X-Request-Id', 'webhook-to-worker-7')
      .expect(200);
    const event = await eventually(async () => {
      await Sentry.flush(500);
      return sentry.envelopes.find(
        (e) => e.includes(channel.chatbotId) && e.includes('TwilioApiError'),
      );
    });
    expect(event).toContain('"request_id":"webhook-to-worker-7"');
  });

  it('API_DOCS=off: both documents and their Swagger pages answer 404 in the contract shape', async () => {
    for (const path of [
      '/api/docs',
      '/api/docs-json',
      '/api/docs-webhooks',
      '/api/docs-webhooks-json',
    ]) {
      const res = await request(ctx.t.http).get(path).expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
    }
  });

  describe('CORS (DASHBOARD_ORIGINS)', () => {
    const preflight = (origin: string) =>
      request(ctx.t.http)
        .options('/api/chatbots')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type,idempotency-key');

    it('a preflight from the dashboard is allowed, its headers too, and cached for 10 minutes', async () => {
      const res = await preflight(DASHBOARD).expect(204);
      expect(res.headers['access-control-allow-origin']).toBe(DASHBOARD);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      const allowed = res.headers['access-control-allow-headers'].toLowerCase().split(',');
      expect(allowed).toEqual(
        expect.arrayContaining([
          'authorization',
          'content-type',
          'idempotency-key',
          'x-request-id',
        ]),
      );
      expect(res.headers['access-control-max-age']).toBe('600');
    });

    it('a dashboard call may read the rate-limit headers, ETag and the request id', async () => {
      const { apiKey } = await ctx.t.createOrganization();
      const res = await authed(ctx.t.http, apiKey)
        .get('/api/chatbots')
        .set('Origin', DASHBOARD)
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBe(DASHBOARD);
      const exposed = res.headers['access-control-expose-headers'].toLowerCase().split(',');
      expect(exposed).toEqual(
        expect.arrayContaining(['retry-after', 'etag', 'x-request-id', 'x-ratelimit-limit']),
      );
      // Every rate-limit header the throttler actually sends (names follow its throttlers'
      // names), the ETag and the request id are exposed by name.
      const sent = Object.keys(res.headers).filter((name) =>
        /^(x-ratelimit-|retry-after|etag$|x-request-id$)/.test(name),
      );
      expect(sent).toEqual(
        expect.arrayContaining([
          'x-ratelimit-limit',
          'x-ratelimit-remaining',
          'x-ratelimit-reset',
          'etag',
          'x-request-id',
        ]),
      );
      expect(sent.filter((name) => !exposed.includes(name))).toEqual([]);
    });

    it('another origin gets no Access-Control-Allow-Origin, on the preflight or the call', async () => {
      const other = 'https://evil.example.net';
      const pre = await preflight(other);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      const { apiKey } = await ctx.t.createOrganization();
      const res = await authed(ctx.t.http, apiKey).get('/api/chatbots').set('Origin', other);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('as a real process', () => {
  let db: SharedDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await startSharedDatabase('operations');
  });
  afterAll(async () => {
    await stopAllProcesses();
    await db?.close();
  });

  it('a development start prints the banner first and no module or route lines', async () => {
    app = await startAppProcess({
      name: 'dev',
      databaseUrl: db.url,
      twilioApiBaseUrl: 'http://127.0.0.1:9',
      env: { NODE_ENV: 'development', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_SECONDS: '3' },
    });
    await waitFor('the banner', () => app.output().includes('"msg":"listening"'));
    await fetch(`${app.baseUrl}/api/chatbots`);
    await waitFor('a request line', () => app.output().includes('"request completed"'));
    const lines = app.output().trim().split('\n');
    expect(JSON.parse(lines[0])).toEqual({
      msg: 'listening',
      url: expect.stringContaining(`:${app.port}`),
      database: 'DATABASE_URL',
      docs: 'https://sms.example.test/api/docs',
    });
    const chatter = lines.filter((line) =>
      /RoutesResolver|RouterExplorer|InstanceLoader|NestFactory|LegacyRouteConverter|Unsupported route path/.test(
        line,
      ),
    );
    expect(chatter).toEqual([]);
  });

  it('SIGTERM: readiness answers 503 while draining, liveness and the API keep serving, exit 0', async () => {
    await fetch(`${app.baseUrl}/api/health/ready`).then((res) => expect(res.status).toBe(200));
    app.kill('SIGTERM');
    const draining = await waitFor(
      'readiness 503',
      async () => {
        const res = await fetch(`${app.baseUrl}/api/health/ready`);
        return res.status === 503
          ? ((await res.json()) as { code: string; message: string })
          : null;
      },
      5_000,
      50,
    );
    expect(draining).toEqual(
      expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', message: 'Not ready: shutting down' }),
    );
    expect((await fetch(`${app.baseUrl}/api/health/live`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/api/chatbots`)).status).toBe(401);
    const exit = await app.exited;
    expect(exit).toEqual(expect.objectContaining({ code: 0, signal: null }));
  });

  it('at a terminal (a pseudo-terminal from `script`), logs are pretty and the banner a sentence', async () => {
    const port = await freePort();
    const command = `exec ${process.execPath} -r ts-node/register/transpile-only src/main.ts`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        TS_NODE_TRANSPILE_ONLY: 'true',
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        PORT: String(port),
        DATABASE_URL: db.url,
        CREDENTIALS_ENCRYPTION_KEY: ENCRYPTION_KEY,
        SENTRY_DSN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor('the banner', () => output.includes('listening'), 120_000, 100);
      await fetch(`http://127.0.0.1:${port}/api/chatbots`);
      await waitFor('a request line', () => / 401 /.test(output), 10_000, 50);
      const lines = stripVTControlCharacters(output).replace(/\r/g, '').trim().split('\n');
      expect(lines[0]).toBe(
        `SMS channel API listening on http://127.0.0.1:${port} (database: DATABASE_URL), API docs at http://localhost:${port}/api/docs`,
      );
      expect(lines.find((line) => line.includes('GET /api/chatbots'))).toMatch(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/api\/chatbots 401 \d+ ms \[[0-9a-f-]{36}\]$/,
      );
      expect(lines.filter((line) => line.startsWith('{"level"'))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
