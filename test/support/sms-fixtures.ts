/**
 * Shared set-up for tests that touch Twilio: the real app pointed at the Twilio test double, and
 * helpers that create an organization, a chatbot and a connected SMS channel through the API.
 */
import { randomBytes, randomInt } from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { TwilioDouble } from '../../tools/twilio-double';
import { authed, startTestApp, TEST_PUBLIC_BASE_URL, TestApp } from './test-app';

export interface SmsTestContext {
  t: TestApp;
  twilio: TwilioDouble;
  close(): Promise<void>;
}

export async function startSmsTestApp(env: Record<string, string> = {}): Promise<SmsTestContext> {
  const twilio = await TwilioDouble.start();
  const t = await startTestApp({
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_TIMEOUT_MS: '1500',
    REPLY_RETRY_DELAY_SECONDS: '1',
    REPLY_RETRY_LIMIT: '3',
    QUEUE_POLL_SECONDS: '1',
    ...env,
  });
  return {
    t,
    twilio,
    async close() {
      await t.close();
      await twilio.stop();
    },
  };
}

const issuedNumbers = new Set<string>();

/**
 * A random E.164 number in a range no real subscriber uses in tests, never the same twice in a
 * test file: two "customers" drawing one number would share a conversation.
 */
export function randomNumber(): string {
  for (;;) {
    const number = `+3584${randomInt(10_000_000, 99_999_999)}`;
    if (!issuedNumbers.has(number)) {
      issuedNumbers.add(number);
      return number;
    }
  }
}

export interface ConnectedChannel {
  apiKey: string;
  organizationId: string;
  chatbotId: string;
  accountSid: string;
  authToken: string;
  phoneNumber: string;
}

export async function createChatbot(
  ctx: SmsTestContext,
  apiKey: string,
  name = 'Support bot',
): Promise<string> {
  const res = await authed(ctx.t.http, apiKey).post('/api/chatbots').send({ name }).expect(201);
  return res.body.id as string;
}

/** Organization (starter) + chatbot + Twilio account and number + a connected channel. */
export async function connectChannel(
  ctx: SmsTestContext,
  options: { configureWebhook?: boolean; accountType?: 'Trial' | 'Full' } = {},
): Promise<ConnectedChannel> {
  const { organizationId, apiKey } = await ctx.t.createOrganization('starter');
  const chatbotId = await createChatbot(ctx, apiKey);
  const { sid: accountSid, authToken } = ctx.twilio.addAccount({
    type: options.accountType ?? 'Full',
  });
  const phoneNumber = randomNumber();
  ctx.twilio.addNumber(accountSid, { phoneNumber });
  await authed(ctx.t.http, apiKey)
    .put(`/api/chatbots/${chatbotId}/channels/sms`)
    .send({
      accountSid,
      authToken,
      phoneNumber,
      configureWebhook: options.configureWebhook ?? true,
    })
    .expect(200);
  return { apiKey, organizationId, chatbotId, accountSid, authToken, phoneNumber };
}

/** A customer texting the channel's number: Twilio's signed webhook, delivered to the app. */
export function textFromCustomer(
  ctx: SmsTestContext,
  channel: Pick<ConnectedChannel, 'phoneNumber'>,
  from: string,
  body: string,
  extra?: Record<string, string>,
) {
  return ctx.twilio.sendInboundMessage({
    to: channel.phoneNumber,
    from,
    body,
    extra,
    url: `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`,
    deliverTo: ctx.t.webhookUrl,
  });
}

/** A customer texts the channel and gets the bot's reply: answers the conversation's id. */
export async function openConversation(
  ctx: SmsTestContext,
  channel: Pick<ConnectedChannel, 'phoneNumber' | 'chatbotId'>,
  customer: string,
): Promise<string> {
  await textFromCustomer(ctx, channel, customer, 'Hello');
  await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
  const [{ id }] = await ctx.t.running.app
    .get(DataSource)
    .query(`SELECT id FROM conversations WHERE chatbot_id = $1 AND customer_number = $2`, [
      channel.chatbotId,
      customer,
    ]);
  return id as string;
}

/** Posts form params signed with `authToken` for the public URL of `path` (or a forged one). */
export function signedPost(
  ctx: SmsTestContext,
  path: string,
  params: Record<string, string>,
  authToken: string,
  signedParams: Record<string, string> = params,
) {
  const signature = twilio.getExpectedTwilioSignature(
    authToken,
    `${TEST_PUBLIC_BASE_URL}${path}`,
    signedParams,
  );
  return request(ctx.t.http)
    .post(path)
    .type('form')
    .set('X-Twilio-Signature', signature)
    .send(params);
}

export const randomMessageSid = (): string => `SM${randomBytes(16).toString('hex')}`;

export async function countRows(
  ctx: SmsTestContext,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  const [{ count }] = await ctx.t.running.app
    .get(DataSource)
    .query(`SELECT count(*)::int AS count FROM ${sql}`, params);
  return count;
}

/** Polls until `check` returns a truthy value (the reply worker runs asynchronously). */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('eventually: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
