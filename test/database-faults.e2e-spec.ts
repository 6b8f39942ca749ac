/**
 * The database goes away under load and comes back. The test owns its database (a PGlite served
 * by our own PgliteServer on a fixed port), so it can drop every connection and refuse new ones
 * for a few seconds, then listen again on the same port: the same in both CI modes.
 *
 * While it is down the app keeps running, /api/health and the webhook answer 503 (never 200 for
 * a message that was not stored); afterwards the pools reconnect by themselves and every webhook
 * that got 200 is stored and answered exactly once.
 */
import { PGlite } from '@electric-sql/pglite';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PgliteServer } from '../src/database/pglite-server';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

const OUTAGE_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface WebhookResult {
  customer: string;
  body: string;
  messageSid: string;
  status: number;
  startedAt: number;
  endedAt: number;
}

interface Probe {
  at: number;
  status: number;
}

const countBy = (results: { status: number }[]) =>
  results.reduce<Record<number, number>>(
    (counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }),
    {},
  );

describe('database outage under load', () => {
  let pglite: PGlite;
  let server: PgliteServer;
  let port: number;
  let ctx: SmsTestContext;

  const webhooks: WebhookResult[] = [];
  const health: Probe[] = [];
  let downAt = 0;
  let upAt = 0;
  let recoveredWithin = Infinity;

  const db = () => ctx.t.running.app.get(DataSource);
  const repliesTo = (customer: string) => ctx.twilio.messages.filter((m) => m.to === customer);
  const acknowledged = () => webhooks.filter((w) => w.status === 200);
  const unanswered = () => acknowledged().filter((w) => repliesTo(w.customer).length === 0);

  beforeAll(async () => {
    pglite = await PGlite.create();
    server = new PgliteServer(pglite);
    // A free port, then kept: the app's connection string must stay valid across the outage.
    port = await server.listen('127.0.0.1', 0);
    ctx = await startSmsTestApp({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      REPLY_WORKER_CONCURRENCY: '4',
      REPLY_RETRY_DELAY_SECONDS: '1',
      REPLY_RETRY_LIMIT: '5',
      // A job fetched just as the connections dropped is marked active in the database while the
      // worker never receives it; it is retried once it expires, which here is soon.
      REPLY_JOB_EXPIRE_SECONDS: '4',
    });
  });

  beforeAll(async () => {
    const channels: ConnectedChannel[] = [];
    for (let i = 0; i < 3; i += 1) channels.push(await connectChannel(ctx));

    let stop = false;
    let counter = 0;
    // Webhooks flowing: one sender per channel, a new customer each time (no loop guard).
    const sender = async (channel: ConnectedChannel) => {
      while (!stop) {
        const customer = randomNumber();
        const body = `Load message ${(counter += 1)}, please answer`;
        const startedAt = Date.now();
        let status = -1; // the app did not answer at all
        let messageSid = '';
        try {
          const delivery = await textFromCustomer(ctx, channel, customer, body);
          status = delivery.status;
          messageSid = delivery.params.MessageSid;
        } catch {
          status = -1;
        }
        webhooks.push({ customer, body, messageSid, status, startedAt, endedAt: Date.now() });
        await sleep(40);
      }
    };
    const prober = async () => {
      while (!stop) {
        const res = await request(ctx.t.http).get('/api/health');
        health.push({ at: Date.now(), status: res.status });
        await sleep(150);
      }
    };
    const load = [...channels.map(sender), prober()];

    await sleep(1_000);
    downAt = Date.now();
    await server.close(); // every connection dropped, new ones refused
    await sleep(OUTAGE_MS);
    upAt = Date.now();
    await server.listen('127.0.0.1', port);
    // Nobody restarts anything: the pools must find the database again by themselves.
    await eventually(async () => health.some((p) => p.at > upAt && p.status === 200), 15_000).catch(
      () => undefined,
    );
    recoveredWithin = (health.find((p) => p.at > upAt && p.status === 200)?.at ?? Infinity) - upAt;
    await sleep(1_500);
    stop = true;
    await Promise.all(load);
    await eventually(async () => unanswered().length === 0, 15_000).catch(() => undefined);
    await sleep(1_000); // a duplicate would show up now
  }, 58_000);

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    await pglite?.close();
  });

  it('health answers 503 while the database is down and 200 again once it is back', () => {
    expect(countBy(health)).toEqual({ 200: expect.any(Number), 503: expect.any(Number) });
    expect(health.some((p) => p.at > downAt + 500 && p.at < upAt && p.status === 503)).toBe(true);
    expect(recoveredWithin).toBeLessThan(10_000);
  });

  it('the webhook answers 503 while the database is down: never 500, never silence, never slow', () => {
    const internalErrors = [
      ...new Set(
        ctx.t.logs
          .filter((line) => line.includes('"INTERNAL_ERROR"'))
          .map((line) => JSON.parse(line).err?.message as string),
      ),
    ];
    // Twilio does not retry a failed webhook: a 500 or no answer loses the SMS silently, while a
    // 503 at least shows in Twilio's debugger as "unavailable".
    expect({ webhooks: countBy(webhooks), internalErrors }).toEqual({
      webhooks: { 200: expect.any(Number), 503: expect.any(Number) },
      internalErrors: [],
    });
    const whileDown = webhooks.filter((w) => w.startedAt > downAt + 200 && w.endedAt < upAt);
    expect(whileDown.length).toBeGreaterThan(0);
    expect(countBy(whileDown)).toEqual({ 503: whileDown.length });
    // Twilio waits about 15 s.
    expect(Math.max(...webhooks.map((w) => w.endedAt - w.startedAt))).toBeLessThan(10_000);
    expect(acknowledged().filter((w) => w.startedAt > upAt).length).toBeGreaterThan(0);
  });

  it('every webhook that got 200 is stored', async () => {
    const sids = acknowledged().map((w) => w.messageSid);
    const stored: { twilio_sid: string }[] = await db().query(
      `SELECT twilio_sid FROM messages WHERE direction = 'inbound' AND twilio_sid = ANY($1)`,
      [sids],
    );
    expect(stored.map((r) => r.twilio_sid).sort()).toEqual([...sids].sort());
  });

  it('every stored inbound message has its reply job: no half-committed webhook transaction', async () => {
    const orphans = await db().query(
      `SELECT m.body FROM messages m
       WHERE m.direction = 'inbound' AND m.twilio_sid = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text)
         AND NOT EXISTS (SELECT 1 FROM pgboss.archive a WHERE a.name = 'sms-reply' AND a.data->>'messageId' = m.id::text)`,
      [webhooks.map((w) => w.messageSid)],
    );
    expect(orphans).toEqual([]);
  });

  it('every webhook that got 200 is answered soon after recovery, and nobody is answered twice', async () => {
    // With the reply job's state, so a failure says where the reply got stuck.
    const stuck = await Promise.all(
      unanswered().map(async (w) => {
        const [job] = await db().query(
          `SELECT j.state, j.started_on FROM messages m JOIN pgboss.job j ON j.data->>'messageId' = m.id::text
           WHERE m.twilio_sid = $1`,
          [w.messageSid],
        );
        const started = job?.started_on ? new Date(job.started_on).getTime() - downAt : null;
        const when =
          started === null
            ? ''
            : started < 0
              ? `, started ${-started} ms before the outage`
              : `, started ${started} ms into the outage`;
        return `${w.body}: reply job ${job?.state ?? 'missing'}${when}`;
      }),
    );
    expect(stuck).toEqual([]);
    const twice = webhooks.filter((w) => repliesTo(w.customer).length > 1);
    expect(twice.map((w) => w.body)).toEqual([]);
  });

  it("the outage's errors are logged without the customers' messages", () => {
    // logger-options.ts: "Bodies are never logged: they carry tokens and customers' messages."
    const logs = ctx.t.logs.join('\n');
    expect(logs).toContain('"statusCode":503');
    expect(webhooks.filter((w) => logs.includes(w.body)).map((w) => w.body)).toEqual([]);
  });

  it('the app kept running and serves as before', async () => {
    // An unhandled promise rejection (which ends a Node 20 process) makes jest fail this file
    // with "Test suite failed to run".
    await request(ctx.t.http).get('/api/health').expect(200);
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    expect((await textFromCustomer(ctx, channel, customer, 'Still there?')).status).toBe(200);
    await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
  });
});
