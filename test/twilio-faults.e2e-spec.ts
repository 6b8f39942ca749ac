/**
 * Twilio misbehaving while we send replies, through the Twilio double over real HTTP: answers
 * slower than TWILIO_TIMEOUT_MS, connections dropped before and after Twilio acted, bursts of
 * 500/503, 429 with Retry-After. Whatever happens, a reply goes out once Twilio recovers and
 * never twice: we count the double's messages per customer, and the SID stored in our database
 * is the one the double created.
 */
import { DataSource } from 'typeorm';
import type { FaultFilter, RecordedMessage } from './twilio-double/twilio-double';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

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

  const db = () => ctx.t.running.app.get(DataSource);
  const repliesTo = (customer: string): RecordedMessage[] =>
    ctx.twilio.messages.filter((m) => m.to === customer);
  const outboundRows = (channel: ConnectedChannel, customer: string): Promise<OutboundRow[]> =>
    db().query(
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
  const createRequests = (channel: ConnectedChannel) =>
    ctx.twilio.requests.filter(
      (r) => r.operationId === 'CreateMessage' && r.authAccountSid === channel.accountSid,
    );
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
    // Anything still in flight (a retry racing the adoption) would land within a poll or two.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
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
    await new Promise((resolve) => setTimeout(resolve, 1_200));
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
