import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { authTokenAad } from '../src/modules/channels/sms-channel-tokens';
import { CredentialCipher, keyIdOf } from '../src/modules/crypto/credential-cipher';
import { Secret } from '../src/common/secret';
import { TEST_PUBLIC_BASE_URL, authed, expectError } from './support/test-app';
import {
  createChatbot,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';

const WEBHOOK_URL = `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`;

describe('SMS channel: connect, status, disconnect', () => {
  let ctx: SmsTestContext;

  beforeAll(async () => {
    ctx = await startSmsTestApp();
  });
  afterAll(() => ctx.close());
  afterEach(() => ctx.twilio.clearFaults());

  async function setup(plan: 'free' | 'starter' | 'pro' = 'starter') {
    const { apiKey } = await ctx.t.createOrganization(plan);
    const chatbotId = await createChatbot(ctx, apiKey);
    const account = ctx.twilio.addAccount();
    const phoneNumber = randomNumber();
    const { sid: numberSid } = ctx.twilio.addNumber(account.sid, { phoneNumber });
    const api = authed(ctx.t.http, apiKey);
    const path = `/api/chatbots/${chatbotId}/channels/sms`;
    const body = { accountSid: account.sid, authToken: account.authToken, phoneNumber };
    return { apiKey, chatbotId, account, phoneNumber, numberSid, api, path, body };
  }

  /** Connected with configureWebhook: the number's SmsUrl points at us. */
  async function connectedWithWebhook() {
    const s = await setup();
    await s.api
      .put(s.path)
      .send({ ...s.body, configureWebhook: true })
      .expect(200);
    return s;
  }

  const tableDump = async (): Promise<string> => {
    const db = ctx.t.running.app.get(DataSource);
    const rows = await db.query('SELECT * FROM sms_channels');
    return JSON.stringify(rows);
  };
  const channelCount = async (chatbotId: string): Promise<number> => {
    const db = ctx.t.running.app.get(DataSource);
    const [{ count }] = await db.query(
      'SELECT count(*)::int AS count FROM sms_channels WHERE chatbot_id = $1',
      [chatbotId],
    );
    return count;
  };

  it('connects, reports status, and never returns or stores the token in plain text', async () => {
    const s = await setup();
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, friendlyName: 'Product support' })
      .expect(200);
    expect(res.body).toEqual(
      expect.objectContaining({
        connected: true,
        accountSid: s.account.sid,
        phoneNumber: s.phoneNumber,
        friendlyName: 'Product support',
        webhookUrl: WEBHOOK_URL,
        lastInboundAt: null,
        lastOutboundAt: null,
        lastError: null,
        trialAccount: false,
      }),
    );
    expect(res.body.connectedAt).toEqual(expect.any(String));
    const status = await s.api.get(s.path).expect(200);
    expect(status.body).toEqual(res.body);
    expect(JSON.stringify([res.body, status.body])).not.toContain(s.account.authToken);
    expect(await tableDump()).not.toContain(s.account.authToken);
    expect(ctx.t.logs.join('')).not.toContain(s.account.authToken);
  });

  it('reports not connected with nulls before connecting', async () => {
    const s = await setup();
    const res = await s.api.get(s.path).expect(200);
    expect(res.body).toEqual(
      expect.objectContaining({
        connected: false,
        accountSid: null,
        phoneNumber: null,
        webhookUrl: WEBHOOK_URL,
      }),
    );
  });

  describe('validation (400 VALIDATION_FAILED with per-field details)', () => {
    it.each([
      ['accountSid', { accountSid: 'AC123' }],
      ['accountSid', { accountSid: 'XX0123456789abcdef0123456789abcdef' }],
      ['accountSid', { accountSid: 'AC0123456789abcdef0123456789abcdeZ' }],
      ['authToken', { authToken: 'short' }],
      ['authToken', { authToken: 'x'.repeat(33) }],
      ['phoneNumber', { phoneNumber: '0401234567' }],
      ['phoneNumber', { phoneNumber: '+0401234567' }],
      ['configureWebhook', { configureWebhook: 'yes' }],
    ])('rejects a bad %s', async (field, patch) => {
      const s = await setup();
      const res = await s.api
        .put(s.path)
        .send({ ...s.body, ...patch })
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
      expect(JSON.stringify(res.body)).not.toContain(s.account.authToken);
      expect(ctx.twilio.requests.filter((r) => r.authAccountSid === s.account.sid)).toHaveLength(0);
    });

    it('lists every bad field at once', async () => {
      const s = await setup();
      const res = await s.api.put(s.path).send({}).expect(400);
      const fields = res.body.details.map((d: { field: string }) => d.field).sort();
      expect(fields).toEqual(['accountSid', 'authToken', 'phoneNumber']);
    });
  });

  it('refuses the free plan with 403 PLAN_UPGRADE_REQUIRED before calling Twilio', async () => {
    const s = await setup('free');
    const res = await s.api.put(s.path).send(s.body).expect(403);
    expectError(res.body, 403, 'PLAN_UPGRADE_REQUIRED');
    expect(ctx.twilio.requests.filter((r) => r.authAccountSid === s.account.sid)).toHaveLength(0);
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('maps a rejected Auth Token to 422 TWILIO_CREDENTIALS_REJECTED and stores nothing', async () => {
    const s = await setup();
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, authToken: 'f'.repeat(32) })
      .expect(422);
    expect(res.body).toEqual({
      statusCode: 422,
      code: 'TWILIO_CREDENTIALS_REJECTED',
      message: 'Twilio rejected the credentials',
    });
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('maps a number of another account to 422 TWILIO_NUMBER_NOT_OWNED', async () => {
    const s = await setup();
    const other = ctx.twilio.addAccount();
    const otherNumber = randomNumber();
    ctx.twilio.addNumber(other.sid, { phoneNumber: otherNumber });
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, phoneNumber: otherNumber })
      .expect(422);
    expect(res.body).toEqual({
      statusCode: 422,
      code: 'TWILIO_NUMBER_NOT_OWNED',
      message: "The phone number you entered doesn't belong to this Twilio account",
    });
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('does not accept a partial match of the number', async () => {
    const s = await setup();
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, phoneNumber: s.phoneNumber.slice(0, -2) })
      .expect(422);
    expectError(res.body, 422, 'TWILIO_NUMBER_NOT_OWNED');
  });

  it.each([
    ['a 500', () => ({ status: 500 })],
    ['a 503', () => ({ status: 503 })],
    ['a 429', () => ({ status: 429, retryAfter: 2 })],
  ])('maps %s from Twilio to 503 TWILIO_UNREACHABLE', async (_name, fault) => {
    const s = await setup();
    ctx.twilio.failNext(1, fault(), { pathIncludes: s.account.sid });
    const res = await s.api.put(s.path).send(s.body).expect(503);
    expect(res.body).toEqual({
      statusCode: 503,
      code: 'TWILIO_UNREACHABLE',
      message: "Couldn't reach Twilio right now",
    });
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('maps a timeout and a dropped connection to 503 TWILIO_UNREACHABLE', async () => {
    const s = await setup();
    ctx.twilio.delayNext(1, 3_000, { pathIncludes: s.account.sid });
    await s.api.put(s.path).send(s.body).expect(503);
    ctx.twilio.dropNext(1, { pathIncludes: s.account.sid });
    const res = await s.api.put(s.path).send(s.body).expect(503);
    expectError(res.body, 503, 'TWILIO_UNREACHABLE');
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('maps an unreachable Twilio (nothing listening) to 503', async () => {
    const { startTestApp } = await import('./support/test-app');
    const app = await startTestApp({
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
      TWILIO_TIMEOUT_MS: '1000',
    });
    try {
      const { apiKey } = await app.createOrganization('pro');
      const chatbot = await authed(app.http, apiKey)
        .post('/api/chatbots')
        .send({ name: 'x' })
        .expect(201);
      const res = await authed(app.http, apiKey)
        .put(`/api/chatbots/${chatbot.body.id}/channels/sms`)
        .send({
          accountSid: 'AC' + 'a'.repeat(32),
          authToken: 'b'.repeat(32),
          phoneNumber: '+358401234567',
        })
        .expect(503);
      expectError(res.body, 503, 'TWILIO_UNREACHABLE');
    } finally {
      await app.close();
    }
  });

  it('refuses a number without SMS capability (422 TWILIO_NUMBER_NOT_SMS_CAPABLE)', async () => {
    const s = await setup();
    const voiceOnly = randomNumber();
    ctx.twilio.addNumber(s.account.sid, { phoneNumber: voiceOnly, sms: false });
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, phoneNumber: voiceOnly })
      .expect(422);
    expectError(res.body, 422, 'TWILIO_NUMBER_NOT_SMS_CAPABLE');
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it.each(['suspended', 'closed'] as const)(
    'refuses a %s account (422 TWILIO_ACCOUNT_NOT_ACTIVE)',
    async (status) => {
      const s = await setup();
      ctx.twilio.updateAccount(s.account.sid, { status });
      const res = await s.api.put(s.path).send(s.body).expect(422);
      expectError(res.body, 422, 'TWILIO_ACCOUNT_NOT_ACTIVE');
      expect(await channelCount(s.chatbotId)).toBe(0);
    },
  );

  it('records a trial account in the status', async () => {
    const s = await setup();
    ctx.twilio.updateAccount(s.account.sid, { type: 'Trial' });
    const res = await s.api.put(s.path).send(s.body).expect(200);
    expect(res.body.trialAccount).toBe(true);
  });

  it('answers 409 NUMBER_ALREADY_CONNECTED for a number connected to another chatbot, in any organization', async () => {
    const s = await setup();
    await s.api.put(s.path).send(s.body).expect(200);
    const { apiKey: otherKey } = await ctx.t.createOrganization('pro');
    const otherBot = await createChatbot(ctx, otherKey);
    const res = await authed(ctx.t.http, otherKey)
      .put(`/api/chatbots/${otherBot}/channels/sms`)
      .send(s.body)
      .expect(409);
    expectError(res.body, 409, 'NUMBER_ALREADY_CONNECTED');
    const sameOrgBot = await createChatbot(ctx, s.apiKey);
    await s.api.put(`/api/chatbots/${sameOrgBot}/channels/sms`).send(s.body).expect(409);
    expect(await channelCount(otherBot)).toBe(0);
  });

  it('reconnecting the same chatbot replaces the credentials', async () => {
    const s = await setup();
    await s.api.put(s.path).send(s.body).expect(200);
    const before = await tableDump();
    const rotated = 'a1'.repeat(16);
    ctx.twilio.updateAccount(s.account.sid, { authToken: rotated });
    await s.api
      .put(s.path)
      .send({ ...s.body, authToken: rotated, friendlyName: 'New name' })
      .expect(200);
    expect(await channelCount(s.chatbotId)).toBe(1);
    const after = await tableDump();
    expect(after).not.toEqual(before);
    expect(after).not.toContain(rotated);
    const status = await s.api.get(s.path).expect(200);
    expect(status.body.friendlyName).toBe('New name');
  });

  it('configureWebhook points the number at our webhook with POST', async () => {
    const s = await setup();
    const res = await s.api
      .put(s.path)
      .send({ ...s.body, configureWebhook: true })
      .expect(200);
    const number = ctx.twilio.numbers(s.account.sid).find((n) => n.phoneNumber === s.phoneNumber);
    expect(number).toEqual(expect.objectContaining({ smsUrl: WEBHOOK_URL, smsMethod: 'POST' }));
    expect(res.body.webhookConfigured).toBe(true);
  });

  it('without configureWebhook reports whether the number already points at us', async () => {
    const s = await setup();
    const res = await s.api.put(s.path).send(s.body).expect(200);
    expect(res.body.webhookConfigured).toBe(false);
  });

  it('another organization gets 404 for status, connect and disconnect', async () => {
    const s = await setup();
    await s.api.put(s.path).send(s.body).expect(200);
    const { apiKey: strangerKey } = await ctx.t.createOrganization('pro');
    const stranger = authed(ctx.t.http, strangerKey);
    expectError((await stranger.get(s.path).expect(404)).body, 404, 'NOT_FOUND');
    await stranger.put(s.path).send(s.body).expect(404);
    await stranger.delete(s.path).expect(404);
    expect(await channelCount(s.chatbotId)).toBe(1);
  });

  it('disconnect removes the credentials before answering 204 and clears the SmsUrl we set', async () => {
    const s = await connectedWithWebhook();
    await s.api.delete(s.path).expect(204);
    expect(await channelCount(s.chatbotId)).toBe(0);
    const db = ctx.t.running.app.get(DataSource);
    const rows = await db.query(
      'SELECT auth_token_encrypted FROM sms_channels WHERE phone_number = $1',
      [s.phoneNumber],
    );
    expect(rows).toHaveLength(0);
    const number = ctx.twilio.numbers(s.account.sid).find((n) => n.phoneNumber === s.phoneNumber);
    expect(number?.smsUrl ?? '').toBe('');
    const status = await s.api.get(s.path).expect(200);
    expect(status.body.connected).toBe(false);
    await s.api.delete(s.path).expect(404);
  });

  it('disconnect succeeds even when Twilio fails to clear the SmsUrl', async () => {
    const s = await connectedWithWebhook();
    ctx.twilio.failNext(5, { status: 500 }, { pathIncludes: s.account.sid });
    await s.api.delete(s.path).expect(204);
    expect(await channelCount(s.chatbotId)).toBe(0);
  });

  it('disconnect after an encryption-key change (the token no longer decrypts): 204, credentials gone, the SmsUrl left and reported', async () => {
    const s = await connectedWithWebhook();
    // What a restart with a new CREDENTIALS_ENCRYPTION_KEY and no previous keys sees: a
    // ciphertext (valid, bound to its row) under a key this instance does not have.
    const db = ctx.t.running.app.get(DataSource);
    const lostKey = randomBytes(32);
    const [{ id }] = await db.query('SELECT id FROM sms_channels WHERE chatbot_id = $1', [
      s.chatbotId,
    ]);
    const foreign = new CredentialCipher({ encryptionKeys: { current: lostKey, previous: [] } });
    await db.query('UPDATE sms_channels SET auth_token_encrypted = $1 WHERE id = $2', [
      foreign.encrypt(new Secret(s.account.authToken), authTokenAad(id)),
      id,
    ]);
    const logsBefore = ctx.t.logs.length;

    await s.api.delete(s.path).expect(204);
    expect(await channelCount(s.chatbotId)).toBe(0);
    // Clearing the number's URL needed the token: best effort, so it still points at us...
    const number = ctx.twilio.numbers(s.account.sid).find((n) => n.phoneNumber === s.phoneNumber);
    expect(number?.smsUrl).toBe(WEBHOOK_URL);
    // ...and the log (and Sentry, as a warning) says why, naming the key id and never the token.
    const logs = ctx.t.logs.slice(logsBefore).join('');
    expect(logs).toContain("Could not clear the number's SmsUrl in Twilio after disconnect");
    expect(logs).toContain(`key ${keyIdOf(lostKey)} is not configured`);
    expect(logs).not.toContain(s.account.authToken);
    await s.api.delete(s.path).expect(404);
  });

  it('disconnect leaves an SmsUrl we did not set alone', async () => {
    const s = await setup();
    await s.api.put(s.path).send(s.body).expect(200);
    await s.api.delete(s.path).expect(204);
    expect(
      ctx.twilio.requests.filter((r) => r.authAccountSid === s.account.sid && r.method === 'POST'),
    ).toHaveLength(0);
  });

  it('the connect endpoints are documented with every error response', async () => {
    const request = (await import('supertest')).default;
    const doc = (await request(ctx.t.http).get('/api/docs-json').expect(200)).body;
    const put = doc.paths['/api/chatbots/{chatbotId}/channels/sms'].put;
    expect(Object.keys(put.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    expect(
      doc.paths['/api/chatbots/{chatbotId}/channels/sms'].delete.responses['204'],
    ).toBeDefined();
  });
});
