/**
 * What the bot may say and how: escalation to a human stops it, the loop guard caps it, long
 * model answers are cut to 1,600 characters at a word boundary with segments counted, and errors
 * reach Sentry tagged channels/sms without secrets or message bodies.
 */
import { startSentrySink } from './support/sentry-sink';
import * as Sentry from '@sentry/nestjs';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { countSegments } from '../src/modules/twilio-sms/sms-text';
import { startFakeOpenAiServer, FakeOpenAiServer } from './support/fake-openai-server';
import { authed } from './support/test-app';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

describe('reply rules', () => {
  let ctx: SmsTestContext;
  let openai: FakeOpenAiServer;
  let sentry: Awaited<ReturnType<typeof startSentrySink>>;

  beforeAll(async () => {
    sentry = await startSentrySink();
    initSentry(sentry.dsn, 'test');
    openai = await startFakeOpenAiServer();
    ctx = await startSmsTestApp({
      AGENT_PROVIDER: 'openai',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENAI_API_KEY: 'sk-test-openai-key-0123456789',
      OPENAI_TIMEOUT_MS: '1000',
      BOT_REPLIES_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await ctx.close();
    await openai.close();
    await Sentry.close(2_000);
    sentry.server.close();
  });
  beforeEach(() => openai.behave({ kind: 'answer', content: 'Happy to help!' }));

  const db = () => ctx.t.running.app.get(DataSource);
  const repliesTo = (customer: string) => ctx.twilio.messages.filter((m) => m.to === customer);
  const conversationId = async (channel: ConnectedChannel, customer: string): Promise<string> =>
    (
      await eventually(
        async () =>
          (
            await db().query(
              `SELECT id FROM conversations WHERE chatbot_id = $1 AND customer_number = $2`,
              [channel.chatbotId, customer],
            )
          )[0],
      )
    ).id;

  it('escalation stops the bot; the human reply goes out; release brings the bot back', async () => {
    const channel = await connectChannel(ctx);
    const api = authed(ctx.t.http, channel.apiKey);
    const customer = randomNumber();
    await textFromCustomer(ctx, channel, customer, 'I want a person');
    await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    const id = await conversationId(channel, customer);
    await api.post(`/api/conversations/${id}/escalate`).expect(200);
    await textFromCustomer(ctx, channel, customer, 'Hello? Anyone?');
    await api
      .post(`/api/conversations/${id}/messages`)
      .send({ body: 'Hi, this is Anna from support.' })
      .expect(201);
    await ctx.twilio.waitForMessages(2, 10_000, (m) => m.to === customer);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(repliesTo(customer).map((m) => m.body)).toEqual([
      'Happy to help!',
      'Hi, this is Anna from support.',
    ]);
    await api.post(`/api/conversations/${id}/release`).expect(200);
    await textFromCustomer(ctx, channel, customer, 'Thanks, one more question');
    await ctx.twilio.waitForMessages(3, 10_000, (m) => m.to === customer);
    const conversation = await api.get(`/api/conversations/${id}`).expect(200);
    expect(conversation.body.messages.map((m: { author: string }) => m.author)).toEqual([
      'customer',
      'bot',
      'customer',
      'agent',
      'customer',
      'bot',
    ]);
  });

  it('the loop guard caps bot replies per conversation per minute', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    for (let i = 0; i < 6; i += 1) {
      await textFromCustomer(ctx, channel, customer, `Auto-reply ${i}: I am away`);
      await ctx.twilio.waitForMessages(Math.min(i + 1, 3), 10_000, (m) => m.to === customer);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(repliesTo(customer)).toHaveLength(3);
  });

  it('cuts a long answer to 1,600 characters at a word boundary and records segments and encoding', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    const long = `**Answer:** ${'lorem ipsum dolor sit amet '.repeat(100)}`;
    openai.behave({ kind: 'answer', content: long });
    await textFromCustomer(ctx, channel, customer, 'Tell me everything');
    const [sms] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    expect(sms.body.length).toBeLessThanOrEqual(1_600);
    expect(sms.body.startsWith('Answer: lorem')).toBe(true);
    expect(sms.body).not.toContain('**');
    expect(sms.body.endsWith('...')).toBe(true);
    expect(sms.body.slice(0, -3)).toMatch(/(lorem|ipsum|dolor|sit|amet)$/);
    const [row] = await db().query(
      `SELECT m.segments, m.encoding FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.customer_number = $1 AND m.direction = 'outbound'`,
      [customer],
    );
    expect(row).toEqual({ segments: countSegments(sms.body).segments, encoding: 'GSM-7' });
    expect(row.segments).toBe(Math.ceil(sms.body.length / 153));
  });

  it('records UCS-2 for an emoji reply', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    openai.behave({ kind: 'answer', content: 'Kiitos! 🙂 '.repeat(10) });
    await textFromCustomer(ctx, channel, customer, 'Moi');
    const [sms] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    const [row] = await db().query(
      `SELECT m.segments, m.encoding FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.customer_number = $1 AND m.direction = 'outbound'`,
      [customer],
    );
    expect(row).toEqual({ encoding: 'UCS-2', segments: countSegments(sms.body).segments });
    expect(row.segments).toBe(2);
  });

  it('a failing agent still answers with the fallback message, and the error reaches Sentry tagged channels/sms without secrets', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    openai.behave({ kind: 'error', status: 401, message: 'bad key' });
    const secretBody = 'my account password is hunter2';
    await textFromCustomer(ctx, channel, customer, secretBody);
    const [sms] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    expect(sms.body).toMatch(/Sorry/);
    await Sentry.flush(2_000);
    const events = await eventually(async () => {
      const found = sentry.envelopes.filter((e) => e.includes(channel.chatbotId));
      return found.length ? found : null;
    });
    const event = events.join('\n');
    expect(event).toContain('"feature":"channels/sms"');
    expect(event).toContain(channel.chatbotId);
    expect(event).toContain('AgentError');
    const all = sentry.envelopes.join('\n');
    expect(all).not.toContain(channel.authToken);
    expect(all).not.toContain('sk-test-openai-key-0123456789');
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain(channel.apiKey);
  });

  it('a permanent Twilio failure is reported to Sentry with the chatbot and channel', async () => {
    const channel = await connectChannel(ctx);
    const customer = randomNumber();
    ctx.twilio.rejectMessagesWith(21211, "The 'To' number is not a valid phone number.", 400, {
      to: customer,
    });
    await textFromCustomer(ctx, channel, customer, 'hello');
    await Sentry.flush(2_000);
    const event = await eventually(async () =>
      sentry.envelopes.find((e) => e.includes(channel.chatbotId) && e.includes('TwilioApiError')),
    );
    expect(event).toContain('"feature":"channels/sms"');
    const [{ id: channelId }] = await db().query(
      `SELECT id FROM sms_channels WHERE chatbot_id = $1`,
      [channel.chatbotId],
    );
    expect(event).toContain(channelId);
    expect(event).not.toContain(channel.authToken);
  });
});
