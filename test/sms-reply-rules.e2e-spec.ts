/**
 * What the bot may say and how: escalation to a human stops it, the loop guard caps it, an
 * opt-out follows the person and the number (not the chatbot), long model answers are cut to
 * 1,600 characters at a word boundary with segments counted, and errors reach Sentry tagged
 * channels/sms without secrets or message bodies.
 */
import { startSentrySink } from './support/sentry-sink';
import * as Sentry from '@sentry/nestjs';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { countSegments } from '../src/common/sms';
import { startFakeOpenAiServer, FakeOpenAiServer } from './support/fake-openai-server';
import { authed, expectError } from './support/test-app';
import {
  ConnectedChannel,
  connectChannel,
  countRows,
  createChatbot,
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

  describe('an opt-out follows the person and the number, not the chatbot', () => {
    const quiet = () => new Promise((resolve) => setTimeout(resolve, 1_500));
    const humanReply = (channel: ConnectedChannel, id: string, body = 'A person here, hello!') =>
      authed(ctx.t.http, channel.apiKey).post(`/api/conversations/${id}/messages`).send({ body });
    const optedOutInInbox = async (channel: ConnectedChannel, id: string): Promise<boolean> =>
      (await authed(ctx.t.http, channel.apiKey).get(`/api/conversations/${id}`).expect(200)).body
        .optedOut;

    /** Connects the channel's number (same Twilio account) to a new chatbot of `owner`. */
    async function connectNumberTo(
      from: ConnectedChannel,
      owner: { apiKey: string; organizationId: string },
    ): Promise<ConnectedChannel> {
      const chatbotId = await createChatbot(ctx, owner.apiKey, 'The next bot');
      await authed(ctx.t.http, owner.apiKey)
        .put(`/api/chatbots/${chatbotId}/channels/sms`)
        .send({
          accountSid: from.accountSid,
          authToken: from.authToken,
          phoneNumber: from.phoneNumber,
        })
        .expect(200);
      return { ...from, ...owner, chatbotId };
    }

    const disconnect = (channel: ConnectedChannel) =>
      authed(ctx.t.http, channel.apiKey)
        .delete(`/api/chatbots/${channel.chatbotId}/channels/sms`)
        .expect(204);

    it.each([
      ['another chatbot of the same organization', false],
      ['a chatbot of another organization', true],
    ])(
      'STOP, then the number moves to %s: the bot stays silent, a human reply is 409, START re-enables both',
      async (_where, otherOrganization) => {
        const first = await connectChannel(ctx);
        const customer = randomNumber();
        await textFromCustomer(ctx, first, customer, 'STOP');
        await disconnect(first);
        const next = await connectNumberTo(
          first,
          otherOrganization ? await ctx.t.createOrganization('starter') : first,
        );

        await textFromCustomer(ctx, next, customer, 'Hi, is anyone there?');
        const id = await conversationId(next, customer);
        await quiet();
        expect(repliesTo(customer)).toEqual([]);
        expect(await optedOutInInbox(next, id)).toBe(true);
        const refused = await humanReply(next, id).expect(409);
        expectError(refused.body, 409, 'CONTACT_OPTED_OUT');
        expect(await countRows(ctx, `messages WHERE conversation_id = $1`, [id])).toBe(1);

        await textFromCustomer(ctx, next, customer, 'START');
        expect(await optedOutInInbox(next, id)).toBe(false);
        await textFromCustomer(ctx, next, customer, 'Now I have a question');
        await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
        await humanReply(next, id, 'A person follows up').expect(201);
        const sent = await ctx.twilio.waitForMessages(2, 10_000, (m) => m.to === customer);
        expect(sent.map((m) => [m.from, m.body])).toEqual([
          [first.phoneNumber, 'Happy to help!'],
          [first.phoneNumber, 'A person follows up'],
        ]);
      },
    );

    const modelSaw = (text: string) =>
      eventually(async () =>
        openai.requests.some((r) => r.body.messages.some((m) => m.content.includes(text))),
      );
    const outboundOf = async (channel: ConnectedChannel, customer: string) =>
      (await db().query(
        `SELECT m.delivery_status, m.error_message FROM messages m
         JOIN conversations c ON c.id = m.conversation_id
         WHERE c.chatbot_id = $1 AND c.customer_number = $2 AND m.direction = 'outbound'`,
        [channel.chatbotId, customer],
      )) as { delivery_status: string; error_message: string | null }[];

    it('a STOP that arrives while the agent is still writing the reply: the reply is not sent', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      openai.behave({ kind: 'answer', content: 'A slow answer', delayMs: 400 });
      await textFromCustomer(ctx, channel, customer, 'A question before I go');
      await modelSaw('A question before I go');
      await textFromCustomer(ctx, channel, customer, 'STOP');
      const [reply] = await eventually(async () => {
        const rows = await outboundOf(channel, customer);
        return rows[0]?.delivery_status === 'failed' ? rows : null;
      });
      expect(reply.error_message).toMatch(/opted out/);
      expect(repliesTo(customer)).toEqual([]);
    });

    it('a STOP while the reply waits for its retry: no reply is written', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      openai.behave({ kind: 'error', status: 503 });
      await textFromCustomer(ctx, channel, customer, 'Is the model up?');
      const [{ id: inboundId }] = await db().query(
        `SELECT id FROM messages WHERE body = 'Is the model up?' AND conversation_id = $1`,
        [await conversationId(channel, customer)],
      );
      const jobIs = (state: string) =>
        eventually(async () => {
          const [job] = await db().query(
            `SELECT state FROM pgboss.job WHERE name = 'sms-reply' AND data->>'messageId' = $1`,
            [inboundId],
          );
          return job?.state === state;
        }, 20_000);
      await jobIs('retry');
      await textFromCustomer(ctx, channel, customer, 'STOP');
      openai.behave({ kind: 'answer', content: 'It is now' });
      await jobIs('completed');
      expect(await outboundOf(channel, customer)).toEqual([]);
      expect(repliesTo(customer)).toEqual([]);
    });

    it("the inbox of the chatbot the number left still shows its customer's opt-out", async () => {
      const first = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, first, customer, 'Hello');
      await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      await textFromCustomer(ctx, first, customer, 'UNSUBSCRIBE');
      const id = await conversationId(first, customer);
      await disconnect(first);
      expect(await optedOutInInbox(first, id)).toBe(true);
    });

    it('deleting the conversation and then the chatbot does not forget the opt-out', async () => {
      const first = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, first, customer, 'STOP');
      // Neither has an API route; an organization's clean-up (or its deletion) removes them so.
      await db().query(`DELETE FROM conversations WHERE chatbot_id = $1`, [first.chatbotId]);
      await db().query(`DELETE FROM chatbots WHERE id = $1`, [first.chatbotId]);
      const next = await connectNumberTo(first, first);
      await textFromCustomer(ctx, next, customer, 'Do you remember me?');
      const id = await conversationId(next, customer);
      await quiet();
      expect(repliesTo(customer)).toEqual([]);
      const refused = await humanReply(next, id).expect(409);
      expectError(refused.body, 409, 'CONTACT_OPTED_OUT');
    });

    it('an opt-out of one number does not silence another number for the same person', async () => {
      const optedOut = await connectChannel(ctx);
      const other = await connectChannel(ctx);
      const customer = randomNumber();
      await textFromCustomer(ctx, optedOut, customer, 'STOP');
      await textFromCustomer(ctx, other, customer, 'Hello other shop');
      const [sms] = await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      expect(sms.from).toBe(other.phoneNumber);
    });

    it('Twilio refusing a send with 21610 records the opt-out: nothing is sent again until START', async () => {
      const channel = await connectChannel(ctx);
      const customer = randomNumber();
      ctx.twilio.rejectMessagesWith(21610, 'Attempt to send to unsubscribed recipient', 400, {
        to: customer,
      });
      const sendsTo = () =>
        ctx.twilio.requests.filter(
          (r) =>
            r.method === 'POST' && r.path.endsWith('/Messages.json') && r.form?.To === customer,
        ).length;
      await textFromCustomer(ctx, channel, customer, 'Hello');
      await eventually(async () =>
        (
          await db().query(
            `SELECT 1 FROM sms_opt_outs WHERE sender = $1 AND customer_number = $2 AND source = 'twilio-21610'`,
            [channel.phoneNumber, customer],
          )
        ).at(0),
      );
      const id = await conversationId(channel, customer);
      expect(await optedOutInInbox(channel, id)).toBe(true);
      await textFromCustomer(ctx, channel, customer, 'Hello again');
      const refused = await humanReply(channel, id).expect(409);
      expectError(refused.body, 409, 'CONTACT_OPTED_OUT');
      await quiet();
      expect(sendsTo()).toBe(1);

      ctx.twilio.clearFaults();
      await textFromCustomer(ctx, channel, customer, 'START');
      await textFromCustomer(ctx, channel, customer, 'Back again');
      await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
      expect(sendsTo()).toBe(2);
    });
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
