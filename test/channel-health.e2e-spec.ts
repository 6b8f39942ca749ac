/**
 * The channel status's `health`, against the Twilio double: what the customer changes in Twilio
 * behind our back (the number re-pointed elsewhere, the token rotated, the number released) shows
 * after the next check and is reported to Sentry once per change; a Twilio outage or a slow
 * Twilio never raises a false alarm nor slows the status call; a check happens at most once a
 * minute per channel; `POST …/channels/sms/webhook` repairs the number's URL (409 when the number
 * is gone); and no token appears in a response, a log line or a Sentry event.
 */
import * as Sentry from '@sentry/nestjs';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { ChannelHealthSweep } from '../src/modules/channels/channel-health-sweep';
import { RewritingRequestClient } from '../tools/twilio-double/rewriting-request-client';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  openConversation,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { startSentrySink, SentrySink } from './support/sentry-sink';
import { authed, expectError, TEST_PUBLIC_BASE_URL } from './support/test-app';

const OURS = `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`;
const ELSEWHERE = 'https://other-vendor.example.com/sms/inbound';
const TIMEOUT_MS = 1_500;

describe('SMS channel health', () => {
  let ctx: SmsTestContext;
  let sentry: SentrySink;
  const responses: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    sentry = await startSentrySink();
    initSentry(sentry.dsn, 'test');
    ctx = await startSmsTestApp({ TWILIO_TIMEOUT_MS: String(TIMEOUT_MS) });
  });
  afterAll(async () => {
    await ctx.close();
    await Sentry.close(2_000);
    sentry.server.close();
  });

  const db = () => ctx.t.running.app.get(DataSource);
  const customerTwilio = (channel: ConnectedChannel, authToken = channel.authToken) =>
    twilio(channel.accountSid, authToken, {
      httpClient: new RewritingRequestClient(ctx.twilio.url),
    });
  const numberSidOf = (channel: ConnectedChannel) =>
    ctx.twilio.numbers(channel.accountSid).find((n) => n.phoneNumber === channel.phoneNumber)!.sid;
  const path = (channel: ConnectedChannel, tail = '') =>
    `/api/chatbots/${channel.chatbotId}/channels/sms${tail}`;
  const status = async (channel: ConnectedChannel) => {
    const res = await authed(ctx.t.http, channel.apiKey).get(path(channel)).expect(200);
    responses.push(res.text);
    return res.body;
  };
  /** As if the last check were over a minute old (the next status call checks again). */
  const ageCheck = (channel: ConnectedChannel) =>
    db().query(
      `UPDATE sms_channels SET health_checked_at = now() - interval '2 minutes',
         health_claimed_at = now() - interval '2 minutes'
       WHERE chatbot_id = $1`,
      [channel.chatbotId],
    );
  const probesOf = (channel: ConnectedChannel) =>
    ctx.twilio.requests.filter(
      (r) => r.operationId === 'FetchAccount' && r.authAccountSid === channel.accountSid,
    ).length;
  const healthEvents = async (channel: ConnectedChannel) => {
    await Sentry.flush(3_000);
    const channelId = (
      await db().query(`SELECT id FROM sms_channels WHERE chatbot_id = $1`, [channel.chatbotId])
    )[0]?.id as string;
    return sentry.envelopes.filter(
      (e) => e.includes('ChannelHealthProblem') && e.includes(`"channel_id":"${channelId}"`),
    );
  };
  const connect = async () => {
    const channel = await connectChannel(ctx);
    tokens.push(channel.authToken);
    return channel;
  };

  it('right after connect: valid credentials, the number present, inbound ours', async () => {
    const channel = await connect();
    const body = await status(channel);
    expect(body).toMatchObject({
      connected: true,
      webhookConfigured: true,
      authTokenPending: false,
    });
    expect(body.health).toMatchObject({
      credentials: 'valid',
      number: 'present',
      inbound: 'ours',
      inboundUrl: OURS,
    });
    expect(typeof body.health.checkedAt).toBe('string');
  });

  it('asks Twilio at most once a minute per channel, however often the status is read', async () => {
    const channel = await connect();
    await ageCheck(channel);
    const before = probesOf(channel);
    for (let i = 0; i < 5; i += 1) await status(channel);
    expect(probesOf(channel) - before).toBe(1);
  });

  it('the number re-pointed elsewhere: "elsewhere" after the next check, one Sentry event; repair', async () => {
    const channel = await connect();
    await customerTwilio(channel).incomingPhoneNumbers(numberSidOf(channel)).update({
      smsUrl: ELSEWHERE,
    });
    expect((await status(channel)).health.inbound).toBe('ours'); // not checked again yet
    await ageCheck(channel);
    const body = await status(channel);
    expect(body.webhookConfigured).toBe(false);
    expect(body.health).toMatchObject({
      credentials: 'valid',
      number: 'present',
      inbound: 'elsewhere',
      inboundUrl: ELSEWHERE,
    });
    await ageCheck(channel);
    await status(channel); // the same problem again: not reported again
    const events = await healthEvents(channel);
    expect(events).toHaveLength(1);
    expect(events[0]).toContain('"feature":"channels/sms"');
    expect(events[0]).toContain(`"chatbot_id":"${channel.chatbotId}"`);
    expect(events[0]).not.toContain(ELSEWHERE);

    const repaired = await authed(ctx.t.http, channel.apiKey)
      .post(path(channel, '/webhook'))
      .expect(200);
    responses.push(repaired.text);
    expect(repaired.body.webhookConfigured).toBe(true);
    expect(repaired.body.health).toMatchObject({ inbound: 'ours', inboundUrl: OURS });
    const number = ctx.twilio.numbers(channel.accountSid)[0];
    expect(number).toMatchObject({ smsUrl: OURS, smsMethod: 'POST' });
    const customer = randomNumber();
    expect((await textFromCustomer(ctx, channel, customer, 'Back?')).status).toBe(200);
    await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
  });

  it('the number released from the account: repair answers 409 TWILIO_NUMBER_GONE', async () => {
    const channel = await connect();
    await customerTwilio(channel).incomingPhoneNumbers(numberSidOf(channel)).remove();
    const res = await authed(ctx.t.http, channel.apiKey).post(path(channel, '/webhook'));
    responses.push(res.text);
    expectError(res.body, 409, 'TWILIO_NUMBER_GONE');
    expect((await status(channel)).health).toMatchObject({ number: 'gone' });
    await ageCheck(channel);
    expect((await status(channel)).health).toMatchObject({ credentials: 'valid', number: 'gone' });
    expect(await healthEvents(channel)).toHaveLength(1);
  });

  it('the token rotated without telling us: rejected on the next send and on the next check', async () => {
    const channel = await connect();
    const customer = randomNumber();
    const conversationId = await openConversation(ctx, channel, customer);
    const rotated = '0123456789abcdef0123456789abcdef';
    tokens.push(rotated);
    ctx.twilio.updateAccount(channel.accountSid, { authToken: rotated });

    const reply = await authed(ctx.t.http, channel.apiKey)
      .post(`/api/conversations/${conversationId}/messages`)
      .send({ body: 'Your parcel left the warehouse' })
      .expect(201);
    responses.push(reply.text);
    await eventually(async () => (await status(channel)).health.credentials === 'rejected');
    expect(await healthEvents(channel)).toHaveLength(1);

    await ageCheck(channel);
    const body = await status(channel);
    expect(body.health).toMatchObject({ credentials: 'rejected', inbound: 'unknown' });
    expect(await healthEvents(channel)).toHaveLength(1);

    // Connecting again with the new token: healthy, and the held reply goes out.
    const reconnected = await authed(ctx.t.http, channel.apiKey)
      .put(path(channel))
      .send({
        accountSid: channel.accountSid,
        authToken: rotated,
        phoneNumber: channel.phoneNumber,
      })
      .expect(200);
    responses.push(reconnected.text);
    expect(reconnected.body.health).toMatchObject({ credentials: 'valid', inbound: 'ours' });
    const [held] = await ctx.twilio.waitForMessages(
      1,
      10_000,
      (m) => m.to === customer && m.body === 'Your parcel left the warehouse',
    );
    expect(held.from).toBe(channel.phoneNumber);
  });

  it('"From not valid for this account" on a send marks the number gone', async () => {
    const channel = await connect();
    const customer = randomNumber();
    ctx.twilio.rejectMessagesWith(
      21606,
      "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
      400,
      { to: customer },
    );
    await textFromCustomer(ctx, channel, customer, 'Hello?');
    await eventually(async () => (await status(channel)).health.number === 'gone');
    ctx.twilio.clearFaults();
  });

  it('a Twilio outage gives unknown, never a false alarm', async () => {
    const channel = await connect();
    await ageCheck(channel);
    ctx.twilio.failNext(2, { status: 503 }, { pathIncludes: channel.accountSid });
    const body = await status(channel);
    expect(body.health).toMatchObject({
      credentials: 'unknown',
      number: 'unknown',
      inbound: 'unknown',
    });
    expect(body.webhookConfigured).toBe(true); // the last thing known
    expect(await healthEvents(channel)).toHaveLength(0);
  });

  it('a slow Twilio: the status answers the last check; the check records unknown later', async () => {
    const channel = await connect();
    const last = (await status(channel)).health;
    await ageCheck(channel);
    const [{ checkedAt: agedAt }] = await db().query(
      `SELECT health_checked_at AS "checkedAt" FROM sms_channels WHERE chatbot_id = $1`,
      [channel.chatbotId],
    );
    ctx.twilio.delayNext(2, TIMEOUT_MS * 3, { pathIncludes: channel.accountSid });
    const body = await status(channel);
    expect(body.health).toMatchObject({ ...last, checkedAt: (agedAt as Date).toISOString() });
    const recorded = await eventually(async () => {
      const [row] = await db().query(
        `SELECT health_credentials AS credentials, health_checked_at AS "checkedAt"
         FROM sms_channels WHERE chatbot_id = $1`,
        [channel.chatbotId],
      );
      return row.checkedAt.getTime() > agedAt.getTime() ? row : null;
    });
    expect(recorded.credentials).toBe('unknown');
    ctx.twilio.clearFaults();
  });

  describe('the sweep (pg-boss schedule)', () => {
    let sweepCtx: SmsTestContext;
    const SWEEP_MINUTES = 2;

    beforeAll(async () => {
      sweepCtx = await startSmsTestApp({
        TWILIO_TIMEOUT_MS: String(TIMEOUT_MS),
        CHANNEL_HEALTH_SWEEP_MINUTES: String(SWEEP_MINUTES),
      });
    });
    afterAll(async () => {
      await sweepCtx.close();
    });

    it('is one pg-boss schedule; each run checks the oldest-checked share, spread out', async () => {
      const sweepDb = sweepCtx.t.running.app.get(DataSource);
      const schedules = await sweepDb.query(`SELECT name, cron FROM pgboss.schedule`);
      expect(schedules).toEqual([{ name: 'channel-health-sweep', cron: '* * * * *' }]);

      const channels: ConnectedChannel[] = [];
      for (let i = 0; i < 30; i += 1) channels.push(await connectChannel(sweepCtx));
      tokens.push(...channels.map((c) => c.authToken));
      const broken = channels[7];
      await twilio(broken.accountSid, broken.authToken, {
        httpClient: new RewritingRequestClient(sweepCtx.twilio.url),
      })
        .incomingPhoneNumbers(
          sweepCtx.twilio
            .numbers(broken.accountSid)
            .find((n) => n.phoneNumber === broken.phoneNumber)!.sid,
        )
        .update({ smsUrl: ELSEWHERE });
      // Checked long ago, oldest first in connect order.
      await sweepDb.query(
        `UPDATE sms_channels SET health_checked_at = now() - interval '1 hour' - (row_order * interval '1 second'),
           health_claimed_at = NULL
         FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC) AS row_order FROM sms_channels) o
         WHERE o.id = sms_channels.id`,
      );
      const accounts = new Set(channels.map((c) => c.accountSid));
      const probes = () =>
        sweepCtx.twilio.requests.filter(
          (r) => r.operationId === 'FetchAccount' && accounts.has(r.authAccountSid ?? ''),
        );
      const sweep = sweepCtx.t.running.app.get(ChannelHealthSweep);

      const firstRun = probes().length;
      expect(await sweep.run(3_000)).toBe(15);
      const first = probes().slice(firstRun);
      expect(new Set(first.map((r) => r.authAccountSid))).toEqual(
        new Set(channels.slice(0, 15).map((c) => c.accountSid)),
      );
      // Spread over the run's window, never a burst: count the double's calls per second.
      const perSecond = new Map<number, number>();
      for (const r of first)
        perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
      expect(perSecond.size).toBeGreaterThanOrEqual(3);
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);

      const secondRun = probes().length;
      expect(await sweep.run(3_000)).toBe(15);
      expect(
        new Set(
          probes()
            .slice(secondRun)
            .map((r) => r.authAccountSid),
        ),
      ).toEqual(new Set(channels.slice(15).map((c) => c.accountSid)));

      const res = await authed(sweepCtx.t.http, broken.apiKey)
        .get(`/api/chatbots/${broken.chatbotId}/channels/sms`)
        .expect(200);
      expect(res.body.health).toMatchObject({ inbound: 'elsewhere', inboundUrl: ELSEWHERE });
      await Sentry.flush(3_000);
      const [{ id: brokenId }] = await sweepDb.query(
        `SELECT id FROM sms_channels WHERE chatbot_id = $1`,
        [broken.chatbotId],
      );
      const events = sentry.envelopes.filter(
        (e) => e.includes('ChannelHealthProblem') && e.includes(`"channel_id":"${brokenId}"`),
      );
      expect(events).toHaveLength(1);
      // Nothing left to check within the minute.
      expect(await sweep.run(3_000)).toBe(0);
    });
  });

  it('no token in any response, log line or Sentry event of these paths', async () => {
    await Sentry.flush(3_000);
    const sources = {
      responses: responses.join('\n'),
      logs: ctx.t.logs.join('\n'),
      sentry: sentry.envelopes.join('\n'),
    };
    expect(sources.sentry).toContain('ChannelHealthProblem');
    for (const token of tokens) {
      for (const text of Object.values(sources)) expect(text).not.toContain(token);
    }
  });
});
