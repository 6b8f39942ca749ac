/**
 * Abuse limits that an attacker cannot turn against a customer. A correctly signed Twilio request
 * is never answered 429, whatever the volume; what is limited is failure: webhook requests that
 * fail verification and unknown API keys, per client address, in memory, at the cost of at most
 * one cached lookup per number. The dashboard API has one budget per API key, across routes,
 * spellings of the header and instances.
 *
 * Client addresses: the app trusts X-Forwarded-For from loopback (a proxy in front), so requests
 * here come from documentation addresses (RFC 5737) unless sent by the Twilio double.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PostgresThrottlerStorage } from '../src/common/rate-limit/postgres-throttler.storage';
import { PreparedStatements } from '../src/database/prepared-statements';
import { WEBHOOK_MISS_TTL_MS } from '../src/modules/channels/webhook-channel-lookup';
import { ApiKeysService } from '../src/modules/organizations/api-keys.service';
import { recordQueries } from './support/query-counter';
import {
  connectChannel,
  createChatbot,
  eventually,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { authed, expectError, startTestApp, TestApp } from './support/test-app';

const WEBHOOK = '/api/webhooks/twilio/sms';
const STATUS = '/api/webhooks/twilio/sms/status';
const API_BUDGET = 8;
const FAILURES = 5;

/** Runs `work` over `items`, `concurrency` at a time. */
async function mapConcurrent<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i], i);
      }
    }),
  );
  return results;
}

/** A signature of the right shape (base64 of 20 bytes) that signs nothing. */
const junkSignature = () => randomBytes(20).toString('base64');

const inboundParams = (to: string, accountSid: string, from = randomNumber()) => ({
  MessageSid: randomMessageSid(),
  AccountSid: accountSid,
  From: from,
  To: to,
  Body: 'hello',
  NumMedia: '0',
});

const statusParams = (from: string, accountSid: string) => ({
  MessageSid: randomMessageSid(),
  MessageStatus: 'delivered',
  AccountSid: accountSid,
  From: from,
  To: randomNumber(),
});

describe('abuse limits', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp({
      API_RATE_LIMIT_PER_MINUTE: String(API_BUDGET),
      WEBHOOK_FAILURES_PER_MINUTE: String(FAILURES),
      API_KEY_FAILURES_PER_MINUTE: String(FAILURES),
    });
  });
  afterAll(() => ctx.close());

  const junk = (
    path: string,
    params: Record<string, string>,
    address: string,
    signature?: string,
  ) => {
    const pending = request(ctx.t.http).post(path).type('form').set('X-Forwarded-For', address);
    if (signature) pending.set('X-Twilio-Signature', signature);
    return pending.send(params);
  };

  const deliveryStatus = async (sid: string) => {
    const [row] = await ctx.t.running.app
      .get(DataSource)
      .query('SELECT delivery_status FROM messages WHERE twilio_sid = $1', [sid]);
    return row?.delivery_status as string | undefined;
  };

  /** The reply sent to `customer`, once its SID is stored (so its status callbacks apply). */
  const replyTo = async (customer: string) => {
    const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    await eventually(async () => (await deliveryStatus(reply.sid)) !== undefined);
    return reply;
  };

  describe('Twilio webhooks', () => {
    it("an unsigned flood naming a customer's number leaves its signed webhooks and status callbacks at 200", async () => {
      const victim = await connectChannel(ctx);
      const first = randomNumber();
      expect((await textFromCustomer(ctx, victim, first, 'Hello')).status).toBe(200);
      const reply = await replyTo(first);

      // More than a minute's worth of any per-number budget, on both routes, from one address.
      const flood = Array.from({ length: 1_400 }, (_, i) => i);
      const answers = await mapConcurrent(flood, 20, async (i) =>
        i % 2
          ? (
              await junk(
                WEBHOOK,
                inboundParams(victim.phoneNumber, victim.accountSid),
                '198.51.100.7',
              )
            ).status
          : (
              await junk(
                STATUS,
                statusParams(victim.phoneNumber, victim.accountSid),
                '198.51.100.7',
              )
            ).status,
      );
      expect(new Set(answers)).toEqual(new Set([403, 429]));

      const second = randomNumber();
      expect((await textFromCustomer(ctx, victim, second, 'Still there?')).status).toBe(200);
      const secondReply = await replyTo(second);
      for (const sid of [reply.sid, secondReply.sid]) {
        for (const status of ['sent', 'delivered'] as const) {
          const callback = await ctx.twilio.sendStatusCallback(sid, status, {
            deliverTo: ctx.t.statusCallbackUrl,
          });
          expect(callback.status).toBe(200);
        }
        expect(await deliveryStatus(sid)).toBe('delivered');
      }
    });

    it('40 genuine status callbacks for 20 replies all land, and the replies reach their final status', async () => {
      const channel = await connectChannel(ctx);
      const customers = Array.from({ length: 20 }, () => randomNumber());
      for (const customer of customers)
        expect((await textFromCustomer(ctx, channel, customer, 'When are you open?')).status).toBe(
          200,
        );
      const replies = await Promise.all(customers.map(replyTo));
      const callbacks = await mapConcurrent(
        replies.flatMap((reply) => [
          [reply.sid, 'sent'] as const,
          [reply.sid, 'delivered'] as const,
        ]),
        8,
        async ([sid, status]) =>
          (await ctx.twilio.sendStatusCallback(sid, status, { deliverTo: ctx.t.statusCallbackUrl }))
            .status,
      );
      expect(callbacks).toEqual(Array(40).fill(200));
      const final = await Promise.all(replies.map((reply) => deliveryStatus(reply.sid)));
      expect(final).toEqual(Array(20).fill('delivered'));
    });

    it('junk signatures cost at most one query per distinct number per cache period', async () => {
      const victim = await connectChannel(ctx);
      // The victim's row is cached by a genuine webhook, whose reply has gone out (and stored its
      // SID) before counting starts.
      const customer = randomNumber();
      expect((await textFromCustomer(ctx, victim, customer, 'Hi')).status).toBe(200);
      await replyTo(customer);
      const others = Array.from({ length: 29 }, () => randomNumber());
      const burst = randomNumber();
      const requests = [
        // The victim's number with its real AccountSid (so the signature itself is checked
        // against the cached row), 29 other numbers over and over, one number 25 at a time, and
        // numbers of their own: 500 requests in all.
        ...Array.from({ length: 100 }, () => victim.phoneNumber),
        ...Array.from({ length: 200 }, (_, i) => others[i % others.length]),
        ...Array.from({ length: 100 }, () => burst),
        ...Array.from({ length: 100 }, () => randomNumber()),
      ].map((number, i) => ({
        path: i % 2 ? WEBHOOK : STATUS,
        params:
          i % 2
            ? inboundParams(number, victim.accountSid)
            : statusParams(number, victim.accountSid),
        address: `192.0.2.${10 + (i % 10)}`,
      }));
      const distinct = new Set(
        requests.map((r) => (r.path === WEBHOOK ? r.params.To : r.params.From)),
      );

      const queries = recordQueries();
      const started = Date.now();
      const answers = await mapConcurrent(
        requests,
        25,
        async (r) => (await junk(r.path, r.params, r.address, junkSignature())).status,
      );
      const elapsed = Date.now() - started;
      queries.stop();

      expect(answers.filter((status) => status !== 403 && status !== 429)).toEqual([]);
      // Each number may be read once per WEBHOOK_MISS_TTL_MS that the flood lasted (and the
      // victim's cached row once more, if it was cached longer ago than that).
      const periods = Math.floor(elapsed / WEBHOOK_MISS_TTL_MS) + 1;
      expect(queries.requestQueries().length).toBeLessThanOrEqual(distinct.size * periods + 1);
      expect(queries.requestQueries().length).toBeGreaterThan(0); // the recorder saw the lookups

      // 50 at once for a number nobody asked for yet: one query between them.
      const together = recordQueries();
      const burstStarted = Date.now();
      const fresh = randomNumber();
      const all = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          junk(
            WEBHOOK,
            inboundParams(fresh, victim.accountSid),
            `192.0.2.${50 + i}`,
            junkSignature(),
          ),
        ),
      );
      together.stop();
      expect(all.map((res) => res.status)).toEqual(Array(50).fill(403));
      expect(together.requestQueries().length).toBeLessThanOrEqual(
        Math.floor((Date.now() - burstStarted) / WEBHOOK_MISS_TTL_MS) + 1,
      );

      // A signature that is not even an HMAC-SHA1's base64 costs no lookup at all.
      const shapeless = recordQueries();
      for (const signature of ['not-a-signature', junkSignature().slice(1), `${junkSignature()}=`])
        expect(
          (
            await junk(
              WEBHOOK,
              inboundParams(randomNumber(), victim.accountSid),
              '192.0.2.99',
              signature,
            )
          ).status,
        ).toBe(403);
      shapeless.stop();
      expect(shapeless.requestQueries()).toEqual([]);
    });

    it('a number connected right after a refused webhook is answered at once', async () => {
      const { apiKey } = await ctx.t.createOrganization();
      const chatbotId = await createChatbot(ctx, apiKey);
      const account = ctx.twilio.addAccount();
      const phoneNumber = randomNumber();
      ctx.twilio.addNumber(account.sid, { phoneNumber });
      // Twilio posts before the customer connected: refused, and "no channel" is now cached.
      expect(
        (await textFromCustomer(ctx, { phoneNumber }, randomNumber(), 'Too early')).status,
      ).toBe(403);
      await authed(ctx.t.http, apiKey)
        .put(`/api/chatbots/${chatbotId}/channels/sms`)
        .send({ accountSid: account.sid, authToken: account.authToken, phoneNumber })
        .expect(200);
      expect((await textFromCustomer(ctx, { phoneNumber }, randomNumber(), 'Now?')).status).toBe(
        200,
      );
    });

    it('an address that keeps failing gets 429 for its failures, while its signed requests are accepted', async () => {
      const channel = await connectChannel(ctx);
      const address = '203.0.113.9';
      const forged = () =>
        junk(
          WEBHOOK,
          inboundParams(channel.phoneNumber, channel.accountSid),
          address,
          junkSignature(),
        );
      const statuses = [];
      for (let i = 0; i < FAILURES + 2; i += 1) statuses.push((await forged()).status);
      expect(statuses).toEqual([...Array(FAILURES).fill(403), 429, 429]);
      const limited = await forged();
      expectError(limited.body, 429, 'RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Unsigned, unknown numbers and the status route: all failures of the same address.
      expect(
        (await junk(STATUS, statusParams(randomNumber(), channel.accountSid), address)).status,
      ).toBe(429);

      // The same address's correctly signed requests: stored and answered as always.
      const customer = randomNumber();
      const inbound = await signedPost(
        ctx,
        WEBHOOK,
        inboundParams(channel.phoneNumber, channel.accountSid, customer),
        channel.authToken,
      ).set('X-Forwarded-For', address);
      expect(inbound.status).toBe(200);
      const reply = await replyTo(customer);
      const callback = await signedPost(
        ctx,
        STATUS,
        {
          MessageSid: reply.sid,
          MessageStatus: 'delivered',
          AccountSid: channel.accountSid,
          From: channel.phoneNumber,
          To: customer,
        },
        channel.authToken,
      ).set('X-Forwarded-For', address);
      expect(callback.status).toBe(200);
      expect(await deliveryStatus(reply.sid)).toBe('delivered');

      // Another address is not affected by this one's failures.
      const other = await junk(
        WEBHOOK,
        inboundParams(channel.phoneNumber, channel.accountSid),
        '203.0.113.10',
        junkSignature(),
      );
      expect(other.status).toBe(403);
    });
  });

  describe('the dashboard API', () => {
    it('one budget per API key across every route and every spelling of the header', async () => {
      const { apiKey } = await ctx.t.createOrganization();
      const chatbotId = await createChatbot(ctx, apiKey); // 1
      const spellings = [
        `Bearer ${apiKey}`,
        `bearer ${apiKey}`,
        `Bearer  ${apiKey}`,
        `Bearer\t${apiKey}`,
        `Bearer ${apiKey} `,
      ];
      const routes = [
        (auth: string) => request(ctx.t.http).get('/api/chatbots').set('Authorization', auth),
        (auth: string) =>
          request(ctx.t.http).get(`/api/chatbots/${chatbotId}`).set('Authorization', auth),
        (auth: string) =>
          request(ctx.t.http)
            .get(`/api/chatbots/${chatbotId}/channels/sms`)
            .set('Authorization', auth),
        (auth: string) =>
          request(ctx.t.http)
            .get(`/api/chatbots/${chatbotId}/knowledge`)
            .set('Authorization', auth),
        (auth: string) =>
          request(ctx.t.http)
            .post(`/api/chatbots/${chatbotId}/agent/reply`)
            .set('Authorization', auth)
            .send({ message: 'Hi' }),
      ];
      const allowed = [];
      for (let i = 1; i < API_BUDGET; i += 1) {
        const res = await routes[i % routes.length](spellings[i % spellings.length]);
        allowed.push(res.status);
        expect(res.headers['x-ratelimit-limit']).toBe(String(API_BUDGET));
        expect(res.headers['x-ratelimit-remaining']).toBe(String(API_BUDGET - 1 - i));
      }
      expect(allowed).toEqual(Array(API_BUDGET - 1).fill(200));

      for (const route of routes) {
        for (const spelling of spellings) {
          const res = await route(spelling);
          expect(res.status).toBe(429);
          expectError(res.body, 429, 'RATE_LIMITED');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      // Another key, and health, are not affected.
      const other = await ctx.t.createOrganization();
      await authed(ctx.t.http, other.apiKey).get('/api/chatbots').expect(200);
      for (let i = 0; i < 12; i += 1) await request(ctx.t.http).get('/api/health').expect(200);
    });

    it('random API keys from one address turn into 429 and stop costing queries', async () => {
      const { apiKey } = await ctx.t.createOrganization();
      const address = '198.51.100.23';
      const as = (auth: string, from = address) =>
        request(ctx.t.http)
          .get('/api/chatbots')
          .set('Authorization', auth)
          .set('X-Forwarded-For', from);
      await as(`Bearer ${apiKey}`).expect(200); // a key this instance now knows
      const randomKey = () =>
        `sk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

      const queries = recordQueries();
      const statuses = await mapConcurrent(
        Array.from({ length: 500 }),
        10,
        async () => (await as(`Bearer ${randomKey()}`)).status,
      );
      queries.stop();
      expect(statuses.filter((s) => s === 401)).toHaveLength(FAILURES);
      expect(statuses.filter((s) => s === 429)).toHaveLength(500 - FAILURES);
      expect(queries.requestQueries().length).toBeLessThanOrEqual(FAILURES);

      const limited = await as(`Bearer ${randomKey()}`).expect(429);
      expectError(limited.body, 429, 'RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // A key this instance resolved lately still works from there; one it never saw waits.
      await as(`Bearer ${apiKey}`).expect(200);
      const unseen = await ctx.t.running.app
        .get(ApiKeysService)
        .createOrganization('Unseen', 'starter');
      await as(`Bearer ${unseen.apiKey}`).expect(429);
      // Other addresses are not affected.
      await as(`Bearer ${randomKey()}`, '198.51.100.24').expect(401);
      await as(`Bearer ${unseen.apiKey}`, '198.51.100.24').expect(200);
    });
  });
});

describe('the API-key budget across instances', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('rate_limits');
    const env = {
      DATABASE_URL: database.url,
      CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_RATE_LIMIT_PER_MINUTE: '10',
      REPLY_WORKER_CONCURRENCY: '0',
    };
    // One after the other: the second finds the schema migrated.
    apps.push(await startTestApp(env));
    apps.push(await startTestApp(env));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database?.drop();
  });

  it('two instances on one database share one budget per key', async () => {
    const [a, b] = apps;
    const { apiKey } = await a.createOrganization();
    const statuses: number[] = [];
    for (let i = 0; i < 14; i += 1)
      statuses.push((await authed((i % 2 ? b : a).http, apiKey).get('/api/chatbots')).status);
    expect(statuses).toEqual([...Array(10).fill(200), ...Array(4).fill(429)]);
  });

  it('the shared storage counts only what it allows, and rolls its windows over', async () => {
    const db = apps[0].running.app.get(DataSource);
    const storage = new PostgresThrottlerStorage(apps[0].running.app.get(PreparedStatements));
    // Week-long windows: the test cannot cross from one into the next while it runs.
    const week = 7 * 24 * 3_600_000;
    const hit = () => storage.increment('k', week, 3, week, 'test');
    const row = async () =>
      (
        await db.query(
          `SELECT window_index::int8::text AS "index", previous_hits AS previous, current_hits AS current
           FROM rate_limit_windows WHERE key = 'test:k'`,
        )
      )[0] as { index: string; previous: number; current: number };
    const results = [await hit(), await hit(), await hit(), await hit(), await hit()];
    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, true, true]);
    expect(results[3].timeToBlockExpire).toBeGreaterThan(0);
    expect(results[2]).toMatchObject({ totalHits: 3, timeToBlockExpire: 0 });
    expect(await row()).toMatchObject({ previous: 0, current: 3 });

    // As if those three were counted in the previous window: they become its count.
    await db.query(
      `UPDATE rate_limit_windows SET window_index = window_index - 1 WHERE key = 'test:k'`,
    );
    await hit();
    const rolled = await row();
    expect(rolled.previous).toBe(3);
    // And two windows ago counts nothing any more.
    await db.query(
      `UPDATE rate_limit_windows SET window_index = window_index - 2 WHERE key = 'test:k'`,
    );
    expect((await hit()).isBlocked).toBe(false);
    expect(await row()).toMatchObject({ index: rolled.index, previous: 0, current: 1 });
  });
});
