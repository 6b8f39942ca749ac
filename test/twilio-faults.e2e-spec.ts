/**
 * Twilio misbehaving while we send replies, through the Twilio double over real HTTP: answers
 * slower than TWILIO_TIMEOUT_MS, connections dropped before and after Twilio acted, bursts of
 * 500/503, 429 with Retry-After. Whatever happens, a reply goes out once Twilio recovers and
 * never twice: we count the double's messages per customer, and the SID stored in our database
 * is the one the double created.
 */
import * as Sentry from '@sentry/nestjs';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { SmsDeliveryService } from '../src/modules/twilio-sms/delivery/sms-delivery.service';
import type { FaultFilter, RecordedMessage, WebhookDelivery } from '../tools/twilio-double';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { startSentrySink } from './support/sentry-sink';
import { authed } from './support/test-app';

// Long enough for connect probes on a loaded CI machine, short enough to time out the delayed sends.
const TIMEOUT_MS = 1_500;
const RETRY_DELAY_SECONDS = 1;

interface OutboundRow {
  id: string;
  body: string;
  twilio_sid: string | null;
  delivery_status: string;
  send_attempted_at: Date | null;
}

const outboundRowsOf = (
  ctx: SmsTestContext,
  channel: ConnectedChannel,
  customer: string,
): Promise<OutboundRow[]> =>
  ctx.t.running.app.get(DataSource).query(
    `SELECT m.id, m.body, m.twilio_sid, m.delivery_status, m.send_attempted_at
     FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE c.chatbot_id = $1 AND c.customer_number = $2 AND m.direction = 'outbound'
     ORDER BY m.created_at, m.id`,
    [channel.chatbotId, customer],
  );

/** Only this channel's sends: faults never leak into another test's account. */
const sendsOf = (channel: ConnectedChannel): FaultFilter => ({
  operationId: 'CreateMessage',
  pathIncludes: channel.accountSid,
});

const createRequestsOf = (ctx: SmsTestContext, channel: ConnectedChannel) =>
  ctx.twilio.requests.filter(
    (r) => r.operationId === 'CreateMessage' && r.authAccountSid === channel.accountSid,
  );

/** Anything still in flight (a retry racing an adoption) would land within a poll or two. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_200));

describe('Twilio faults while sending replies', () => {
  let ctx: SmsTestContext;
  /** Every customer texted in this file: the "never twice" sweep at the end covers them all. */
  const customers: { channel: ConnectedChannel; customer: string }[] = [];

  beforeAll(async () => {
    ctx = await startSmsTestApp({
      TWILIO_TIMEOUT_MS: String(TIMEOUT_MS),
      REPLY_RETRY_DELAY_SECONDS: String(RETRY_DELAY_SECONDS),
      REPLY_RETRY_LIMIT: '6',
      QUEUE_POLL_SECONDS: '1',
    });
  });
  afterAll(() => ctx.close());

  const repliesTo = (customer: string): RecordedMessage[] =>
    ctx.twilio.messages.filter((m) => m.to === customer);
  const outboundRows = (channel: ConnectedChannel, customer: string) =>
    outboundRowsOf(ctx, channel, customer);
  const createRequests = (channel: ConnectedChannel) => createRequestsOf(ctx, channel);
  const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

  interface Outcome {
    channel: ConnectedChannel;
    customer: string;
    row: OutboundRow;
  }

  /** A channel, a customer, the faults armed, one inbound SMS; resolves once the reply has a SID. */
  async function replyThrough(arm: (channel: ConnectedChannel) => void): Promise<Outcome> {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    customers.push({ channel, customer });
    arm(channel);
    const delivery = await textFromCustomer(ctx, channel, customer, 'Hello, anybody there?');
    expect(delivery.status).toBe(200);
    const [row] = await eventually(async () => {
      const rows = await outboundRows(channel, customer);
      return rows[0]?.twilio_sid ? rows : null;
    }, 40_000);
    return { channel, customer, row };
  }

  /** Exactly one SMS reached the customer and our row names it. */
  async function expectSentOnce(customer: string, row: OutboundRow): Promise<RecordedMessage> {
    await settle();
    const sent = repliesTo(customer);
    expect(sent).toHaveLength(1);
    expect(row.twilio_sid).toBe(sent[0].sid);
    expect(row.body).toBe(sent[0].body);
    expect(['queued', 'sent', 'delivered']).toContain(row.delivery_status);
    return sent[0];
  }

  // The scenarios wait on real backoff (seconds each), so they all start together, each on its
  // own channel and Twilio account (every fault is filtered by Account SID); each test below
  // then awaits its scenario and asserts on it.
  const RETRY_AFTER_SECONDS = 4;
  const scenarios: Record<string, Promise<Outcome>> = {};
  const start = (name: string, arm: (channel: ConnectedChannel) => void) => {
    scenarios[name] = replyThrough(arm);
    scenarios[name].catch(() => undefined); // reported by the test that awaits it
  };
  beforeAll(() => {
    start('timeout', (c) => ctx.twilio.delayNext(1, 3_000, sendsOf(c)));
    start('drop-before', (c) => ctx.twilio.dropNext(1, { ...sendsOf(c), afterProcessing: false }));
    start('drop-after', (c) => ctx.twilio.dropNext(1, { ...sendsOf(c), afterProcessing: true }));
    start('burst', (c) => {
      ctx.twilio.failNext(1, { status: 500 }, sendsOf(c));
      ctx.twilio.failNext(2, { status: 503 }, sendsOf(c));
    });
    start('429', (c) =>
      ctx.twilio.failNext(1, { status: 429, retryAfter: RETRY_AFTER_SECONDS }, sendsOf(c)),
    );
  });

  it(`an answer slower than TWILIO_TIMEOUT_MS (${TIMEOUT_MS} ms) was acted on: found by lookup, not resent`, async () => {
    const { channel, customer, row } = await scenarios.timeout;
    await expectSentOnce(customer, row);
    // One create (timed out, but Twilio created the message), then a lookup instead of a resend.
    expect(createRequests(channel)).toHaveLength(1);
    expect(
      ctx.twilio.requests.some(
        (r) => r.operationId === 'ListMessage' && r.authAccountSid === channel.accountSid,
      ),
    ).toBe(true);
  });

  it('a connection dropped before Twilio processed the send: resent once', async () => {
    const { channel, customer, row } = await scenarios['drop-before'];
    await expectSentOnce(customer, row);
    expect(createRequests(channel)).toHaveLength(2);
  });

  it('a connection dropped after Twilio processed the send: adopted, not resent', async () => {
    const { channel, customer, row } = await scenarios['drop-after'];
    await expectSentOnce(customer, row);
    expect(createRequests(channel)).toHaveLength(1);
  });

  it('a burst of 500/503 is retried with growing delays and the reply goes out once Twilio recovers', async () => {
    const { channel, customer, row } = await scenarios.burst;
    await expectSentOnce(customer, row);
    const creates = createRequests(channel);
    expect(creates.map((r) => r.status)).toEqual([500, 503, 503, 201]);
    // pg-boss backoff: the n-th retry waits at least RETRY_DELAY * 2^(n-1) (plus jitter and polling).
    const waited = gaps(creates.map((r) => r.at));
    waited.forEach((ms, n) =>
      expect(ms).toBeGreaterThanOrEqual(RETRY_DELAY_SECONDS * 1_000 * 2 ** n - 100),
    );
  });

  it('429 with Retry-After: retried no sooner than Twilio asked, then sent once', async () => {
    const { channel, customer, row } = await scenarios['429'];
    await expectSentOnce(customer, row);
    const creates = createRequests(channel);
    expect(creates.map((r) => r.status)).toEqual([429, 201]);
    // Twilio's guidance: honour Retry-After (../shared/twilio/README.md). Our own first retry
    // delay is 1 s (at most 2 s with jitter, plus a 1 s poll), so only a retry that read the
    // header waits this long.
    expect(creates[1].at - creates[0].at).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1_000 - 100);
  });

  it('every fault at once, on one channel: each reply goes out exactly once', async () => {
    const channel = await connectChannel(ctx);
    const filter = sendsOf(channel);
    // Requests take the faults in order, whichever reply they belong to.
    ctx.twilio.dropNext(1, { ...filter, afterProcessing: true });
    ctx.twilio.failNext(1, { status: 503 }, filter);
    ctx.twilio.delayNext(1, 3_000, filter);
    ctx.twilio.dropNext(1, { ...filter, afterProcessing: false });
    ctx.twilio.failNext(1, { status: 500 }, filter);
    const group = Array.from({ length: 5 }, () => randomNumber());
    for (const customer of group) customers.push({ channel, customer });
    const deliveries = await Promise.all(
      group.map((customer, i) => textFromCustomer(ctx, channel, customer, `Question ${i}`)),
    );
    expect(deliveries.map((d) => d.status)).toEqual(group.map(() => 200));
    const rows = await Promise.all(
      group.map((customer) =>
        eventually(async () => {
          const all = await outboundRows(channel, customer);
          return all[0]?.twilio_sid ? all[0] : null;
        }, 30_000),
      ),
    );
    await settle();
    group.forEach((customer, i) => {
      const sent = repliesTo(customer);
      expect(sent).toHaveLength(1);
      expect(rows[i].twilio_sid).toBe(sent[0].sid);
    });
  });

  it('two identical replies to one customer: a lost send of the second is resent, not confused with the first', async () => {
    // The local agent answers every question of a chatbot without knowledge with its fallback
    // message, so both replies have the same body, minutes apart in real life, seconds here.
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    customers.push({ channel, customer });
    await textFromCustomer(ctx, channel, customer, 'What are your prices?');
    const [first] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    await eventually(async () => (await outboundRows(channel, customer))[0]?.twilio_sid);

    // The second send never reaches Twilio; the retry's lookup sees the first, identical reply.
    ctx.twilio.dropNext(1, { ...sendsOf(channel), afterProcessing: false });
    await textFromCustomer(ctx, channel, customer, 'And your opening hours?');
    const rows = await eventually(async () => {
      const all = await outboundRows(channel, customer);
      return all.length === 2 && all.every((r) => r.twilio_sid) ? all : null;
    }, 8_000).catch(async () => outboundRows(channel, customer));

    expect(rows.map((r) => r.body)).toEqual([first.body, first.body]);
    // Two replies stored, two sent, each row naming its own SMS.
    expect({
      sent: repliesTo(customer).map((m) => m.sid),
      stored: rows.map((r) => r.twilio_sid),
    }).toEqual({
      sent: [first.sid, expect.any(String)],
      stored: [first.sid, repliesTo(customer)[1]?.sid ?? 'the second SMS'],
    });
  });

  it('sweep: no customer of this file got a reply twice, and every stored SID is the one Twilio created', async () => {
    for (const { channel, customer } of customers) {
      const rows = await outboundRows(channel, customer);
      const sent = repliesTo(customer).map((m) => m.sid);
      // Every SMS Twilio holds for this customer is the one row of ours that names it: a second,
      // unreferenced send would be a duplicate.
      const stored = rows.map((r) => r.twilio_sid).filter((sid): sid is string => Boolean(sid));
      expect({ customer, sent: [...sent].sort() }).toEqual({ customer, sent: [...stored].sort() });
    }
  });
});

/**
 * Twilio's clock is not ours, and its answers and callbacks do not come in the order we send:
 * a lost answer is still matched to the message we sent, and a status callback that beats
 * Messages.create's answer still lands. Its own app and Twilio double: the double's clock skew
 * applies to every account.
 */
describe('Twilio faults: clocks that disagree, callbacks before answers', () => {
  let ctx: SmsTestContext;
  beforeAll(async () => {
    ctx = await startSmsTestApp({ TWILIO_TIMEOUT_MS: '5000' });
  });
  afterAll(() => ctx.close());
  afterEach(() => ctx.twilio.setClockSkew(0));

  const repliesTo = (customer: string) => ctx.twilio.messages.filter((m) => m.to === customer);

  it.each([
    ['6 s behind ours', -6_000],
    ['60 s behind ours', -60_000],
    ['60 s ahead of ours', 60_000],
  ])(
    'Twilio’s clock %s and the answer to a send lost: adopted, sent exactly once',
    async (_label, skewMs) => {
      ctx.twilio.setClockSkew(skewMs);
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      ctx.twilio.dropNext(1, { ...sendsOf(channel), afterProcessing: true });
      expect((await textFromCustomer(ctx, channel, customer, 'Hello?')).status).toBe(200);
      const [row] = await eventually(async () => {
        const rows = await outboundRowsOf(ctx, channel, customer);
        return rows[0]?.twilio_sid ? rows : null;
      }, 30_000);
      await settle();
      expect(repliesTo(customer).map((m) => m.sid)).toEqual([row.twilio_sid]);
      expect(createRequestsOf(ctx, channel)).toHaveLength(1);
    },
  );

  it('a same-text message Twilio created before our first attempt is not taken for ours', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    const chatbot = await authed(ctx.t.http, channel.apiKey)
      .get(`/api/chatbots/${channel.chatbotId}`)
      .expect(200);
    // Two minutes ago (on Twilio's clock), the same account texted the customer the very text the
    // bot will answer with (its fallback: the chatbot has no knowledge).
    ctx.twilio.setClockSkew(-120_000);
    const earlier = await fetch(
      `${ctx.twilio.url}/2010-04-01/Accounts/${channel.accountSid}/Messages.json`,
      {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${channel.accountSid}:${channel.authToken}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          To: customer,
          From: channel.phoneNumber,
          Body: chatbot.body.fallbackMessage,
        }),
      },
    ).then((res) => res.json() as Promise<{ sid: string }>);
    ctx.twilio.setClockSkew(0);
    // Our send is lost before Twilio saw it; the retry's lookup sees only the old message.
    ctx.twilio.dropNext(1, { ...sendsOf(channel), afterProcessing: false });
    await textFromCustomer(ctx, channel, customer, 'What are your prices?');
    const [row] = await eventually(async () => {
      const rows = await outboundRowsOf(ctx, channel, customer);
      return rows[0]?.twilio_sid ? rows : null;
    }, 30_000);
    const sent = repliesTo(customer).map((m) => m.sid);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBe(earlier.sid);
    expect(row.twilio_sid).toBe(sent[1]);
  });

  it('sent and delivered callbacks that beat Messages.create’s answer: the reply ends delivered with its SID', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    // Twilio creates the message at once but answers after 1.5 s; meanwhile it calls back twice.
    ctx.twilio.delayNext(1, 1_500, sendsOf(channel));
    let callbacks: Promise<WebhookDelivery[]> | null = null;
    let answeredBeforeCallbacks: boolean | null = null;
    const unsubscribe = ctx.twilio.onMessage((message) => {
      if (message.accountSid !== channel.accountSid) return;
      callbacks = (async () => {
        // After the create is processed: its answer says queued, as Twilio's does.
        await new Promise((resolve) => setImmediate(resolve));
        const sent = await ctx.twilio.sendStatusCallback(message.sid, 'sent', {
          deliverTo: ctx.t.statusCallbackUrl,
        });
        const delivered = await ctx.twilio.sendStatusCallback(message.sid, 'delivered', {
          deliverTo: ctx.t.statusCallbackUrl,
        });
        answeredBeforeCallbacks = createRequestsOf(ctx, channel)[0].status !== null;
        return [sent, delivered];
      })();
    });
    try {
      await textFromCustomer(ctx, channel, customer, 'Hello?');
      const [message] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      // The callback URL names our message; Twilio signed it, query string included.
      expect(message.statusCallback).toMatch(
        /^https:\/\/sms\.example\.test\/api\/webhooks\/twilio\/sms\/status\?messageId=[0-9a-f-]{36}$/,
      );
      const deliveries = await eventually(async () => callbacks);
      expect((await deliveries).map((d) => d.status)).toEqual([200, 200]);
      expect(answeredBeforeCallbacks).toBe(false);
      // Then the answer comes, and the stored status does not move back to queued.
      await eventually(async () => createRequestsOf(ctx, channel)[0].status === 201);
      await settle();
      const [final] = await outboundRowsOf(ctx, channel, customer);
      expect({ sid: final.twilio_sid, status: final.delivery_status }).toEqual({
        sid: message.sid,
        status: 'delivered',
      });
      expect(repliesTo(customer)).toHaveLength(1);
    } finally {
      unsubscribe();
    }
  });
});

/**
 * What a reply job that expired while its send was in flight would do (the configuration refuses
 * an expiry that short, see app-config.spec.ts): the send runs twice at once, Twilio's list does
 * not show the first message yet, and Twilio creates two. The SID stored first stays; the second
 * is reported, never written over it. Workers are off: the test runs the two sends itself.
 */
describe('Twilio faults: a send run twice at once', () => {
  let ctx: SmsTestContext;
  let sentry: Awaited<ReturnType<typeof startSentrySink>>;
  beforeAll(async () => {
    sentry = await startSentrySink();
    initSentry(sentry.dsn, 'test');
    ctx = await startSmsTestApp({ TWILIO_TIMEOUT_MS: '5000', REPLY_WORKER_CONCURRENCY: '0' });
  });
  afterAll(async () => {
    await ctx.close();
    await Sentry.close(2_000);
    sentry.server.close();
  });

  it('never overwrites a stored SID: the first stays, the second message is reported', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    await textFromCustomer(ctx, channel, customer, 'Can a person help me?');
    const db = ctx.t.running.app.get(DataSource);
    const [{ id: conversationId }] = await db.query(
      'SELECT id FROM conversations WHERE chatbot_id = $1 AND customer_number = $2',
      [channel.chatbotId, customer],
    );
    const reply = await authed(ctx.t.http, channel.apiKey)
      .post(`/api/conversations/${conversationId}/messages`)
      .send({ body: 'Anna from support here.' })
      .expect(201);
    const sidOf = async () =>
      (await db.query('SELECT twilio_sid FROM messages WHERE id = $1', [reply.body.id]))[0]
        .twilio_sid as string | null;

    const delivery = ctx.t.running.app.get(SmsDeliveryService);
    const job = { id: 'the same job, twice', retryCount: 0, retryLimit: 3 };
    ctx.twilio.setListLag(60_000);
    try {
      // The first run's message is created at once, its answer comes 3 s later...
      ctx.twilio.delayNext(1, 3_000, sendsOf(channel));
      const first = delivery.deliver(reply.body.id, job);
      await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      // ...while the second run looks, finds nothing listed yet, and sends again.
      await delivery.deliver(reply.body.id, job);
      const storedFirst = await sidOf();
      await first;
      const sent = ctx.twilio.messages.filter((m) => m.to === customer).map((m) => m.sid);
      expect(sent).toHaveLength(2);
      expect(storedFirst).not.toBeNull();
      expect(await sidOf()).toBe(storedFirst);
      const [extra] = sent.filter((sid) => sid !== storedFirst);
      // Reported to Sentry as a warning of the SMS flow, naming both messages.
      await Sentry.flush(2_000);
      const report = await eventually(async () =>
        sentry.envelopes.find((e) => e.includes('DuplicateSendError') && e.includes(extra)),
      );
      expect(report).toContain(`for a reply already sent as ${storedFirst}; kept ${storedFirst}`);
      expect(report).toContain('"level":"warning"');
      expect(report).toContain('channels/sms');
      // A callback for the extra message changes nothing either.
      await ctx.twilio.sendStatusCallback(extra, 'delivered', {
        deliverTo: ctx.t.statusCallbackUrl,
      });
      expect(await sidOf()).toBe(storedFirst);
    } finally {
      ctx.twilio.setListLag(0);
    }
  });
});
