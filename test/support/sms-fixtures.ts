/**
 * Shared set-up for tests that touch Twilio: the real app pointed at the Twilio test double, and
 * helpers that create an organization, a chatbot and a connected SMS channel through the API.
 */
import { randomInt } from 'node:crypto';
import { TwilioDouble } from '../twilio-double/twilio-double';
import { authed, startTestApp, TestApp } from './test-app';

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

/** A random E.164 number in a range no real subscriber uses in tests. */
export const randomNumber = (): string => `+3584${randomInt(10_000_000, 99_999_999)}`;

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
