/**
 * Two instances, one database: two app processes share the database as two replicas behind a
 * load balancer share PostgreSQL. Webhooks land on either (and some on both at once, the same
 * MessageSid twice); every accepted SMS is stored once and answered exactly once, and status
 * callbacks arriving at either instance update the reply.
 */
import { TwilioDouble, type WebhookDelivery } from '../tools/twilio-double';
import {
  AppProcess,
  connectChannel,
  createOrganization,
  mapConcurrent,
  nextNumber,
  ProcessChannel,
  PUBLIC_BASE_URL,
  randomMessageSid,
  SharedDatabase,
  startAppProcess,
  startSharedDatabase,
  stopAllProcesses,
  STATUS_PATH,
  unfinishedJobs,
  waitFor,
  WEBHOOK_PATH,
} from './support/app-process';

const INBOUND = 200;
/** Every tenth inbound message is delivered to both instances at once. */
const BOTH_EVERY = 10;

describe('two instances, one database', () => {
  let twilio: TwilioDouble;
  let db: SharedDatabase;
  let a: AppProcess;
  let b: AppProcess;
  let channels: ProcessChannel[];

  beforeAll(async () => {
    twilio = await TwilioDouble.start();
    db = await startSharedDatabase('multi');
    const start = (name: string) =>
      startAppProcess({
        name,
        databaseUrl: db.url,
        twilioApiBaseUrl: twilio.url,
        env: { REPLY_RETRY_LIMIT: '10', REPLY_WORKER_CONCURRENCY: '8' },
      });
    // Both start at once on a fresh database, as replicas of one deployment do.
    const [first, second, org] = await Promise.all([
      start('A'),
      start('B'),
      createOrganization(db.url, 'Two instances', 'pro'),
    ]);
    a = first;
    b = second;
    // Channels connected through either instance: each reads what the other stored.
    const viaA = await Promise.all(
      [0, 1].map((i) => connectChannel(a, org.apiKey, twilio, `Bot ${i}`)),
    );
    const viaB = await Promise.all(
      [2, 3].map((i) => connectChannel(b, org.apiKey, twilio, `Bot ${i}`)),
    );
    channels = [viaA[0], viaB[0], viaA[1], viaB[1]];
  }, 180_000);

  afterAll(async () => {
    await stopAllProcesses();
    await twilio?.stop();
    await db?.close();
  }, 60_000);

  it('stores every accepted webhook once, answers it exactly once and takes status callbacks on either instance', async () => {
    const inbound = Array.from({ length: INBOUND }, (_, i) => ({
      channel: channels[i % channels.length],
      customer: nextNumber(),
      sid: randomMessageSid(),
      targets: i % BOTH_EVERY === 0 ? [a, b] : [i % 2 ? b : a],
    }));
    const deliveries: { sid: string; status: number | null }[] = [];
    await mapConcurrent(inbound, 16, async (message) => {
      const sent = await Promise.all(
        message.targets.map((target) =>
          twilio
            .sendInboundMessage({
              to: message.channel.phoneNumber,
              from: message.customer,
              body: 'Hello! When are you open?',
              url: `${PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
              deliverTo: target.webhookUrl,
              // Twilio retries and our duplicates keep the MessageSid.
              extra: { MessageSid: message.sid, SmsSid: message.sid, SmsMessageSid: message.sid },
            })
            .catch((): Pick<WebhookDelivery, 'status'> => ({ status: 0 })),
        ),
      );
      for (const { status } of sent) deliveries.push({ sid: message.sid, status });
    });

    // At this load nothing should be refused; every delivery, duplicates included, is a 200.
    const refused = deliveries.filter((d) => d.status !== 200);
    expect(refused).toEqual([]);
    expect(deliveries).toHaveLength(INBOUND + INBOUND / BOTH_EVERY);
    const accepted = inbound.filter((m) =>
      deliveries.some((d) => d.sid === m.sid && d.status === 200),
    );

    // Stored once: one row per MessageSid, whichever instance(s) received it.
    const stored = await db.query<{ twilio_sid: string; count: number }>(
      `SELECT twilio_sid, count(*)::int AS count FROM messages
       WHERE direction = 'inbound' AND twilio_sid = ANY($1) GROUP BY twilio_sid`,
      [accepted.map((m) => m.sid)],
    );
    expect(stored).toHaveLength(accepted.length);
    expect(stored.filter((row) => row.count !== 1)).toEqual([]);

    // Answered: a reply to every customer, then the queues run dry (nothing could send later).
    const repliesTo = (customer: string) => twilio.messages.filter((m) => m.to === customer);
    await waitFor(
      'a reply to every accepted message',
      () => accepted.every((m) => repliesTo(m.customer).length > 0),
      60_000,
    );
    await waitFor('both queues drained', async () => (await unfinishedJobs(db)) === 0, 30_000, 250);

    // ...exactly once, from the channel's own number, and recorded with Twilio's SID.
    const counts = accepted.map((m) => ({ customer: m.customer, replies: repliesTo(m.customer) }));
    expect(counts.filter((c) => c.replies.length !== 1).map((c) => c.customer)).toEqual([]);
    for (const m of accepted) expect(repliesTo(m.customer)[0].from).toBe(m.channel.phoneNumber);
    const replies = await db.query<{ inbound_sid: string; reply_sid: string | null; n: number }>(
      `SELECT i.twilio_sid AS inbound_sid, r.twilio_sid AS reply_sid,
              count(*) OVER (PARTITION BY i.id)::int AS n
       FROM messages i JOIN messages r ON r.reply_to_message_id = i.id
       WHERE i.twilio_sid = ANY($1)`,
      [accepted.map((m) => m.sid)],
    );
    expect(replies).toHaveLength(accepted.length);
    const sidByInbound = new Map(replies.map((row) => [row.inbound_sid, row.reply_sid]));
    for (const m of accepted) expect(sidByInbound.get(m.sid)).toBe(repliesTo(m.customer)[0].sid);

    // Status callbacks, alternately to each instance: all land.
    const sent = accepted.map((m) => repliesTo(m.customer)[0]);
    const callbacks = await mapConcurrent(sent, 16, (message, i) =>
      twilio
        .sendStatusCallback(message.sid, 'delivered', {
          url: `${PUBLIC_BASE_URL}${STATUS_PATH}`,
          deliverTo: (i % 2 ? b : a).statusCallbackUrl,
        })
        .then((res) => res.status),
    );
    expect(callbacks.filter((status) => status !== 200)).toEqual([]);
    const statuses = await db.query<{ delivery_status: string; count: number }>(
      `SELECT delivery_status, count(*)::int AS count FROM messages
       WHERE direction = 'outbound' AND twilio_sid = ANY($1) GROUP BY delivery_status`,
      [sent.map((m) => m.sid)],
    );
    expect(statuses).toEqual([{ delivery_status: 'delivered', count: accepted.length }]);

    // Both instances stayed up throughout.
    expect(a.isRunning() && b.isRunning()).toBe(true);
  }, 150_000);
});
