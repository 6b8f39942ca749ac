/**
 * GET /metrics as Prometheus scrapes it: the counters a real SMS moves (webhook, reply, Twilio's
 * Messages.create, the model call, the end-to-end latency, the delivery status), refusals by
 * reason, queue backlog, METRICS_TOKEN, no identifying label values; and the request id of the
 * webhook that queued a reply in the reply worker's log lines.
 */
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  connectChannel,
  ConnectedChannel,
  eventually,
  randomMessageSid,
  randomNumber,
  signedPost,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';
import { authed } from './support/test-app';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
const STATUS_PATH = '/api/webhooks/twilio/sms/status';

/** The value of one sample (`name{labels} value`), or 0 when the scrape does not have it. */
function sample(scrape: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of scrape.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return 0;
}

const inboundParams = (channel: ConnectedChannel, from: string, body: string) => ({
  MessageSid: randomMessageSid(),
  AccountSid: channel.accountSid,
  From: from,
  To: channel.phoneNumber,
  Body: body,
  NumMedia: '0',
});

describe('GET /metrics', () => {
  let ctx: SmsTestContext;
  const scrape = async () =>
    (
      await request(ctx.t.http)
        .get('/metrics')
        .set('Authorization', `Bearer ${METRICS_TOKEN}`)
        .expect(200)
    ).text;

  beforeAll(async () => {
    ctx = await startSmsTestApp({ METRICS_TOKEN });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('answers 401 without the token or with a wrong one, 200 in Prometheus text format with it', async () => {
    const without = await request(ctx.t.http).get('/metrics').expect(401);
    expect(without.body).toEqual(
      expect.objectContaining({ statusCode: 401, code: 'UNAUTHORIZED' }),
    );
    await request(ctx.t.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}x`)
      .expect(401);
    await request(ctx.t.http).get('/metrics').set('Authorization', 'Bearer short').expect(401);
    const res = await request(ctx.t.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}`)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(res.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(res.text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('is neither behind an API key nor in the OpenAPI document, and a scrape is not counted', async () => {
    const { apiKey } = await ctx.t.createOrganization();
    // An API key is not the metrics token.
    await request(ctx.t.http).get('/metrics').set('Authorization', `Bearer ${apiKey}`).expect(401);
    await scrape();
    expect(await scrape()).not.toMatch(/route="\/metrics"/);
    const document = await request(ctx.t.http).get('/api/docs-json').expect(200);
    expect(Object.keys(document.body.paths).some((path) => path.includes('metrics'))).toBe(false);
  });

  it('after a real SMS answered by the bot, and its status callback, the counters moved', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    const before = await scrape();
    const inbound = inboundParams(channel, customer, 'When are you open?');
    await signedPost(ctx, WEBHOOK_PATH, inbound, channel.authToken)
      .set('X-Request-Id', 'sms-trace-42')
      .expect(200);
    const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    const db = ctx.t.running.app.get(DataSource);
    await eventually(
      async () =>
        ((await db.query('SELECT 1 FROM messages WHERE twilio_sid = $1', [reply.sid])) as [])
          .length > 0,
    );
    await signedPost(
      ctx,
      STATUS_PATH,
      {
        MessageSid: reply.sid,
        MessageStatus: 'delivered',
        AccountSid: channel.accountSid,
        From: channel.phoneNumber,
        To: customer,
      },
      channel.authToken,
    ).expect(200);
    const after = await eventually(async () => {
      const text = await scrape();
      return sample(text, 'sms_replies_total', { outcome: 'sent' }) >
        sample(before, 'sms_replies_total', { outcome: 'sent' })
        ? text
        : null;
    });
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);

    expect(moved('sms_webhooks_accepted_total', { webhook: 'inbound' })).toBe(1);
    expect(moved('sms_webhooks_accepted_total', { webhook: 'status' })).toBe(1);
    expect(moved('sms_replies_total', { outcome: 'sent' })).toBe(1);
    expect(
      moved('twilio_api_request_duration_seconds_count', {
        endpoint: 'messages.create',
        status: '201',
      }),
    ).toBe(1);
    expect(
      moved('agent_model_call_duration_seconds_count', { provider: 'local', outcome: 'ok' }),
    ).toBe(1);
    expect(moved('sms_reply_latency_seconds_count')).toBe(1);
    expect(moved('sms_reply_latency_seconds_sum')).toBeGreaterThan(0);
    expect(moved('sms_delivery_status_callbacks_total', { status: 'delivered' })).toBe(1);
    // The connect's probe, by endpoint pattern (never the account's SID).
    expect(
      sample(after, 'twilio_api_request_duration_seconds_count', {
        endpoint: 'accounts.fetch',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    // HTTP by route pattern: the webhook and the chatbot's channel path with `:id`.
    expect(
      moved('http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/webhooks/twilio/sms',
        status_code: '200',
      }),
    ).toBe(1);
    expect(after).toMatch(/route="\/api\/chatbots\/:\w+\/channels\/sms"/);
    expect(sample(after, 'job_queue_waiting_jobs', { queue: 'sms-reply' })).toBeGreaterThanOrEqual(
      0,
    );
    expect(after).toContain('job_queue_oldest_waiting_job_age_seconds{queue="sms-send"}');

    // Nothing that identifies anyone: no number, SID, token, or organization/chatbot id.
    for (const secret of [
      customer,
      customer.slice(1),
      channel.phoneNumber.slice(1),
      channel.accountSid,
      channel.authToken,
      channel.apiKey,
      channel.organizationId,
      channel.chatbotId,
      reply.sid,
      inbound.MessageSid,
      'sms-trace-42',
      METRICS_TOKEN,
    ]) {
      expect(after).not.toContain(secret);
    }
  });

  it("the webhook's request id is in the reply worker's log lines, up to Twilio accepting the reply", async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    await signedPost(
      ctx,
      WEBHOOK_PATH,
      inboundParams(channel, customer, 'Do you deliver?'),
      channel.authToken,
    )
      .set('X-Request-Id', 'sms-trace-follow-1')
      .expect(200);
    const [reply] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    const lines = await eventually(async () => {
      const found = ctx.t.logs
        .map((raw) => JSON.parse(raw) as { msg: string; req?: { id?: string }; twilioSid?: string })
        .filter((line) => line.req?.id === 'sms-trace-follow-1');
      return found.some((line) => line.msg === 'SMS accepted by Twilio') ? found : null;
    });
    expect(lines.map((line) => line.msg)).toEqual(['request completed', 'SMS accepted by Twilio']);
    expect(lines[1]).toEqual(
      expect.objectContaining({
        twilioSid: reply.sid,
        job: expect.objectContaining({ queue: 'sms-reply' }),
      }),
    );

    // A person's reply: its send job carries the id of the API request that queued it, and it is
    // not a bot reply, so the webhook-to-reply latency does not count it.
    const before = await scrape();
    const page = await authed(ctx.t.http, channel.apiKey)
      .get(`/api/chatbots/${channel.chatbotId}/conversations`)
      .expect(200);
    await authed(ctx.t.http, channel.apiKey)
      .post(`/api/conversations/${page.body.items[0].id}/messages`)
      .set('X-Request-Id', 'human-reply-3')
      .send({ body: 'A person here: yes, we deliver.' })
      .expect(201);
    const sent = await ctx.twilio.waitForMessages(2, 10_000, (m) => m.to === customer);
    const human = sent.find((m) => m.sid !== reply.sid)!;
    const accepted = await eventually(async () =>
      ctx.t.logs
        .map((raw) => JSON.parse(raw) as { msg: string; req?: { id?: string }; twilioSid?: string })
        .find((line) => line.req?.id === 'human-reply-3' && line.msg === 'SMS accepted by Twilio'),
    );
    expect(accepted).toEqual(
      expect.objectContaining({
        twilioSid: human.sid,
        job: expect.objectContaining({ queue: 'sms-send' }),
      }),
    );
    const after = await scrape();
    expect(sample(after, 'sms_reply_latency_seconds_count')).toBe(
      sample(before, 'sms_reply_latency_seconds_count'),
    );
  });

  it('counts refused webhooks by reason', async () => {
    const channel = await connectChannel(ctx);
    const before = await scrape();
    await request(ctx.t.http).post(WEBHOOK_PATH).type('form').send({ Body: 'hi' }).expect(403);
    const params = inboundParams(channel, randomNumber(), 'hi');
    await signedPost(ctx, WEBHOOK_PATH, params, 'x'.repeat(32)).expect(403);
    await signedPost(
      ctx,
      WEBHOOK_PATH,
      { ...params, To: randomNumber() },
      channel.authToken,
    ).expect(403);
    await signedPost(
      ctx,
      STATUS_PATH,
      {
        MessageSid: randomMessageSid(),
        MessageStatus: 'sent',
        AccountSid: channel.accountSid,
        From: channel.phoneNumber,
      },
      'y'.repeat(32),
    ).expect(403);
    const after = await scrape();
    const moved = (labels: Record<string, string>) =>
      sample(after, 'sms_webhooks_refused_total', labels) -
      sample(before, 'sms_webhooks_refused_total', labels);
    expect(moved({ webhook: 'inbound', reason: 'unsigned' })).toBe(1);
    expect(moved({ webhook: 'inbound', reason: 'signature_mismatch' })).toBe(1);
    expect(moved({ webhook: 'inbound', reason: 'no_channel' })).toBe(1);
    expect(moved({ webhook: 'status', reason: 'signature_mismatch' })).toBe(1);
    expect(
      sample(after, 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/webhooks/twilio/sms',
        status_code: '403',
      }),
    ).toBeGreaterThanOrEqual(3);
  });
});

describe('GET /metrics without METRICS_TOKEN, on an instance that only serves HTTP', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp({ REPLY_WORKER_CONCURRENCY: '0' });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('is open, and shows the reply waiting in its queue with its age', async () => {
    const channel = await connectChannel(ctx);
    await signedPost(
      ctx,
      WEBHOOK_PATH,
      inboundParams(channel, randomNumber(), 'Anyone there?'),
      channel.authToken,
    ).expect(200);
    const scrape = (await request(ctx.t.http).get('/metrics').expect(200)).text;
    expect(sample(scrape, 'job_queue_waiting_jobs', { queue: 'sms-reply' })).toBe(1);
    expect(
      sample(scrape, 'job_queue_oldest_waiting_job_age_seconds', { queue: 'sms-reply' }),
    ).toBeGreaterThan(0);
    expect(sample(scrape, 'job_queue_waiting_jobs', { queue: 'sms-send' })).toBe(0);
    // Another app in this process keeps its own registry: its counters are not these.
    expect(sample(scrape, 'sms_replies_total', { outcome: 'sent' })).toBe(0);
  });
});
