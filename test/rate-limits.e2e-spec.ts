import { authed, expectError } from './support/test-app';
import {
  connectChannel,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

describe('abuse limits', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp({
      API_RATE_LIMIT_PER_MINUTE: '8',
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '3',
    });
  });
  afterAll(() => ctx.close());

  it('limits the dashboard API per API key, not globally', async () => {
    const a = await ctx.t.createOrganization();
    const b = await ctx.t.createOrganization();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1)
      statuses.push((await authed(ctx.t.http, a.apiKey).get('/api/chatbots')).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(200));
    expect(statuses.slice(8)).toEqual([429, 429]);
    const limited = await authed(ctx.t.http, a.apiKey).get('/api/chatbots');
    expectError(limited.body, 429, 'RATE_LIMITED');
    await authed(ctx.t.http, b.apiKey).get('/api/chatbots').expect(200);
  });

  it('limits the webhook per Twilio number, so one noisy number does not block another', async () => {
    // Connecting uses the API: a fresh app key per channel keeps within the API limit.
    const noisy = await connectChannel(ctx);
    const quiet = await connectChannel(ctx);
    const customer = randomNumber();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push((await textFromCustomer(ctx, noisy, customer, `msg ${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await textFromCustomer(ctx, quiet, customer, 'hello')).status).toBe(200);
  });

  it('never limits health checks', async () => {
    const request = (await import('supertest')).default;
    for (let i = 0; i < 12; i += 1) await request(ctx.t.http).get('/api/health').expect(200);
  });
});
