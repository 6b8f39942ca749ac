/**
 * Crashes and restarts of a real app process on one database:
 * 1. kill -9 while webhooks and Twilio calls are in flight: the database holds nothing
 *    half-written, and a new process answers every webhook that got a 200 exactly once (jobs of
 *    the dead worker come back after REPLY_JOB_EXPIRE_SECONDS; a send that reached Twilio before
 *    the crash is found there and adopted, not sent again);
 * 2. SIGTERM with a webhook and a slow Twilio call in flight: the request completes with 200, the
 *    process exits 0 within 10 s, and no job is lost.
 */
import { request as httpRequest } from 'node:http';
import twilioSdk from 'twilio';
import { TwilioDouble, type RecordedMessage } from '../tools/twilio-double';
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
  sleep,
  startAppProcess,
  startSharedDatabase,
  stopAllProcesses,
  unfinishedJobs,
  waitFor,
  WEBHOOK_PATH,
} from './support/app-process';

const WEBHOOKS = 60;
/** Twilio answers Messages.create this late while the first process runs: sends are in flight. */
const SLOW_TWILIO_MS = 2_000;
const QUESTION = 'Hello! When are you open?';

interface Inbound {
  channel: ProcessChannel;
  customer: string;
  sid: string;
  /** HTTP status of the last delivery; 0 when the connection failed. */
  status: number;
}

describe('crash and restart of an app process', () => {
  let twilio: TwilioDouble;
  let db: SharedDatabase;
  let channels: ProcessChannel[] | null = null;

  const start = (name: string) =>
    startAppProcess({
      name,
      databaseUrl: db.url,
      twilioApiBaseUrl: twilio.url,
      env: {
        // A job whose worker was killed is handed out again after this (pg-boss expiry); it must
        // cover a job's two Twilio calls (the app refuses a shorter expiry), and one call must
        // outlast the 3 s answer the SIGTERM test holds back.
        REPLY_JOB_EXPIRE_SECONDS: '9',
        TWILIO_TIMEOUT_MS: '4000',
        REPLY_RETRY_LIMIT: '10',
        REPLY_WORKER_CONCURRENCY: '8',
      },
    });

  const deliver = async (app: AppProcess, message: Omit<Inbound, 'status'>): Promise<number> =>
    twilio
      .sendInboundMessage({
        to: message.channel.phoneNumber,
        from: message.customer,
        body: QUESTION,
        url: `${PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
        deliverTo: app.webhookUrl,
        // Twilio's retry of a webhook keeps its MessageSid.
        extra: { MessageSid: message.sid, SmsSid: message.sid, SmsMessageSid: message.sid },
      })
      .then((res) => res.status)
      .catch(() => 0);

  const repliesTo = (customer: string): RecordedMessage[] =>
    twilio.messages.filter((m) => m.to === customer);

  /** Nothing half-written: each check returns the offending rows (expected: none). */
  const halfWritten = async () => ({
    messagesWithoutConversation: await db.query(
      `SELECT m.id FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id
       WHERE c.id IS NULL`,
    ),
    jobsWithoutMessage: await db.query(
      `SELECT j.id FROM (SELECT id, data FROM pgboss.job WHERE name = 'sms-reply'
                         UNION ALL SELECT id, data FROM pgboss.archive WHERE name = 'sms-reply') j
       WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id::text = j.data->>'messageId')`,
    ),
    // Every stored inbound question has its reply job (in any state) or its reply.
    inboundWithoutJobOrReply: await db.query(
      `SELECT m.twilio_sid FROM messages m
       WHERE m.direction = 'inbound'
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text)
         AND NOT EXISTS (SELECT 1 FROM pgboss.archive j WHERE j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text)
         AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.reply_to_message_id = m.id)`,
    ),
    repliesWithoutQuestion: await db.query(
      `SELECT r.id FROM messages r WHERE r.direction = 'outbound' AND r.author = 'bot'
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = r.reply_to_message_id)`,
    ),
  });
  const nothingHalfWritten = {
    messagesWithoutConversation: [],
    jobsWithoutMessage: [],
    inboundWithoutJobOrReply: [],
    repliesWithoutQuestion: [],
  };

  /** Stored once, answered exactly once, and the reply row holds the SID Twilio gave it. */
  const expectAnsweredExactlyOnce = async (messages: Omit<Inbound, 'status'>[]) => {
    const sids = messages.map((m) => m.sid);
    const stored = await db.query<{ twilio_sid: string; n: number }>(
      `SELECT twilio_sid, count(*)::int AS n FROM messages
       WHERE direction = 'inbound' AND twilio_sid = ANY($1) GROUP BY twilio_sid`,
      [sids],
    );
    expect(stored).toHaveLength(messages.length);
    expect(stored.filter((row) => row.n !== 1)).toEqual([]);
    expect(
      messages.filter((m) => repliesTo(m.customer).length !== 1).map((m) => m.customer),
    ).toEqual([]);
    const replies = await db.query<{ inbound_sid: string; reply_sid: string | null }>(
      `SELECT i.twilio_sid AS inbound_sid, r.twilio_sid AS reply_sid
       FROM messages i JOIN messages r ON r.reply_to_message_id = i.id WHERE i.twilio_sid = ANY($1)`,
      [sids],
    );
    expect(replies).toHaveLength(messages.length);
    const replySid = new Map(replies.map((row) => [row.inbound_sid, row.reply_sid]));
    for (const m of messages) expect(replySid.get(m.sid)).toBe(repliesTo(m.customer)[0].sid);
  };

  let survivor: AppProcess | null = null;

  beforeAll(async () => {
    twilio = await TwilioDouble.start();
    db = await startSharedDatabase('crash');
  }, 60_000);

  afterAll(async () => {
    await stopAllProcesses();
    await twilio?.stop();
    await db?.close();
  }, 60_000);

  afterEach(() => twilio.clearFaults());

  it('kill -9 mid-traffic: nothing half-written, every 200 answered exactly once after a restart', async () => {
    const [first, org] = await Promise.all([
      start('first'),
      createOrganization(db.url, 'Crash test', 'pro'),
    ]);
    const connected = [
      await connectChannel(first, org.apiKey, twilio, 'Bot 0'),
      await connectChannel(first, org.apiKey, twilio, 'Bot 1'),
    ];
    channels = connected;
    const inbound: Inbound[] = Array.from({ length: WEBHOOKS }, (_, i) => ({
      channel: connected[i % connected.length],
      customer: nextNumber(),
      sid: randomMessageSid(),
      status: -1,
    }));
    // Twilio creates each message at once but answers late: sends are in flight at the kill.
    twilio.delayNext(1_000, SLOW_TWILIO_MS, { operationId: 'CreateMessage' });
    const inFlightCreates = () =>
      twilio.requests.filter((r) => r.operationId === 'CreateMessage' && r.status === null);

    const sending = mapConcurrent(inbound, 4, async (message) => {
      message.status = await deliver(first, message);
    });
    await waitFor(
      'webhooks accepted and Twilio calls in flight',
      () =>
        inbound.filter((m) => m.status === 200).length >= WEBHOOKS / 2 &&
        inFlightCreates().length >= 2,
      30_000,
      10,
    );
    // These reached Twilio (it recorded them) but their answer will never reach the process.
    const inFlightAtKill = inFlightCreates().map((r) => r.form.To as string);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    await sending;
    twilio.clearFaults();

    const accepted = inbound.filter((m) => m.status === 200);
    const notAccepted = inbound.filter((m) => m.status !== 200);
    expect(accepted.length).toBeGreaterThanOrEqual(WEBHOOKS / 2);
    expect(notAccepted.length).toBeGreaterThan(0);
    expect(inFlightAtKill.length).toBeGreaterThanOrEqual(2);
    // What the dead process left: whole transactions only.
    expect(await halfWritten()).toEqual(nothingHalfWritten);

    const second = await start('second');
    survivor = second;
    // What got no 200 comes again with the same MessageSid (Twilio retry or fallback URL); some
    // of it may be stored already (committed, answer lost): it must be stored once only.
    for (const message of notAccepted) message.status = await deliver(second, message);
    expect(notAccepted.filter((m) => m.status !== 200)).toEqual([]);

    await waitFor(
      'a reply to every webhook',
      () => inbound.every((m) => repliesTo(m.customer).length > 0),
      60_000,
    );
    await waitFor(
      'the reply queue drained',
      async () => (await unfinishedJobs(db)) === 0,
      30_000,
      250,
    );
    await expectAnsweredExactlyOnce(inbound);
    // The sends Twilio had received when the process died were adopted, not repeated.
    for (const customer of inFlightAtKill) expect(repliesTo(customer)).toHaveLength(1);
    expect(await halfWritten()).toEqual(nothingHalfWritten);
  }, 180_000);

  /** Whether the reply blocked on Twilio at SIGTERM was finished by the stopping process. */
  let finishedByStoppingProcess: boolean | null = null;

  it('SIGTERM: the in-flight webhook gets its 200, the process exits 0 within 10 s, no job is lost', async () => {
    const app = survivor ?? (await start('sigterm'));
    const channel =
      channels?.[0] ??
      (await connectChannel(app, (await createOrganization(db.url, 'T')).apiKey, twilio, 'Bot'));
    // A rolling deploy: the next process boots while this one is told to stop. It takes seconds
    // to boot, so the work below is certainly in the stopping process's hands.
    const next = start('next');
    next.catch(() => undefined);

    // A reply blocked on a slow Twilio call...
    const slow: Omit<Inbound, 'status'> = {
      channel,
      customer: nextNumber(),
      sid: randomMessageSid(),
    };
    twilio.delayNext(1, 3_000, { operationId: 'CreateMessage' });
    expect(await deliver(app, slow)).toBe(200);
    await waitFor(
      'the reply in flight at Twilio',
      () =>
        twilio.requests.some(
          (r) =>
            r.operationId === 'CreateMessage' && r.form.To === slow.customer && r.status === null,
        ),
      20_000,
      10,
    );

    // ...and a webhook whose body is still arriving when SIGTERM comes.
    const late: Omit<Inbound, 'status'> = {
      channel,
      customer: nextNumber(),
      sid: randomMessageSid(),
    };
    const webhook = startSlowWebhook(app, channel, late);
    await webhook.headersSent;
    await sleep(300);
    app.kill('SIGTERM');
    await sleep(500);
    webhook.finish();
    const response = await webhook.response;
    expect(response.status).toBe(200);
    expect(response.body).toContain('<Response/>');

    const exit = await app.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(10_000);
    expect(app.output()).not.toMatch(/shutdown failed|did not stop cleanly/);

    // Not lost: finished by the stopping process, or by the next one.
    await next;
    await waitFor(
      'both replies sent',
      () => [slow, late].every((m) => repliesTo(m.customer).length > 0),
      60_000,
    );
    await waitFor(
      'the reply queue drained',
      async () => (await unfinishedJobs(db)) === 0,
      30_000,
      250,
    );
    await expectAnsweredExactlyOnce([slow, late]);
    expect(await halfWritten()).toEqual(nothingHalfWritten);
    // Had the stopping process not recorded Twilio's answer, the next one had to look the message
    // up at Twilio (the ambiguous-send path) before adopting it.
    finishedByStoppingProcess = !twilio.requests.some(
      (r) => r.operationId === 'ListMessage' && r.query.To === slow.customer,
    );
  }, 120_000);

  // JobQueue drains pg-boss in beforeApplicationShutdown, before TypeORM closes its pool, so a
  // reply whose Twilio call is in flight stores its SID in the stopping process itself.
  it('SIGTERM: a running reply job is finished by the stopping process itself', () => {
    expect(finishedByStoppingProcess).toBe(true);
  });

  /** A signed Twilio webhook sent in two parts: headers and half the body now, the rest later. */
  function startSlowWebhook(
    app: AppProcess,
    channel: ProcessChannel,
    message: Omit<Inbound, 'status'>,
  ) {
    const params: Record<string, string> = {
      SmsMessageSid: message.sid,
      NumMedia: '0',
      SmsSid: message.sid,
      SmsStatus: 'received',
      Body: QUESTION,
      To: channel.phoneNumber,
      NumSegments: '1',
      MessageSid: message.sid,
      AccountSid: channel.accountSid,
      From: message.customer,
      ApiVersion: '2010-04-01',
    };
    const signature = twilioSdk.getExpectedTwilioSignature(
      channel.authToken,
      `${PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
      params,
    );
    const body = Buffer.from(new URLSearchParams(params).toString());
    const req = httpRequest(app.webhookUrl, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': body.length,
        'x-twilio-signature': signature,
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
    });
    const half = Math.floor(body.length / 2);
    const headersSent = new Promise<void>((resolve) =>
      req.write(body.subarray(0, half), () => resolve()),
    );
    return {
      headersSent,
      response,
      finish: () => req.end(body.subarray(half)),
    };
  }
});
