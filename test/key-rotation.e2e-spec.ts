/**
 * Rotating CREDENTIALS_ENCRYPTION_KEY under traffic, the way the README tells operators to:
 * channels connected under key A; restart with B current and A previous; re-encrypt while signed
 * webhooks keep arriving (every one must get 200 and an answer); then every ciphertext carries B's
 * key id and an app that knows only B still verifies webhooks and sends replies.
 *
 * The test owns its database, so re-encryption sees only this file's rows: a fresh PostgreSQL
 * database next to DATABASE_URL when that is set (CI), otherwise an in-memory PGlite served by our
 * PgliteServer. Both outlive each app, as a real database outlives a restart.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CredentialCipher, keyIdOf } from '../src/modules/crypto/credential-cipher';
import { CredentialRotationService } from '../src/modules/crypto/credential-rotation.service';
import { authTokenAad } from '../src/modules/channels/sms-channel-tokens';
import { TwilioDouble } from '../tools/twilio-double';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  textFromCustomer,
} from './support/sms-fixtures';
import { createTestDatabase } from './support/test-database';
import { startTestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('encryption key rotation under traffic', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  let twilio: TwilioDouble;
  let database: { url: string; drop(): Promise<void> };
  let current: SmsTestContext | null = null;

  /** An app on the shared database and Twilio double, with the given keys. */
  async function startApp(key: Buffer, previous: Buffer[] = []): Promise<SmsTestContext> {
    const t = await startTestApp({
      DATABASE_URL: database.url,
      CREDENTIALS_ENCRYPTION_KEY: key.toString('base64'),
      CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: previous.map((k) => k.toString('base64')).join(','),
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_TIMEOUT_MS: '1500',
      REPLY_RETRY_DELAY_SECONDS: '1',
      REPLY_RETRY_LIMIT: '3',
      QUEUE_POLL_SECONDS: '1',
    });
    current = { t, twilio, close: () => t.close() };
    return current;
  }
  async function stopApp(): Promise<void> {
    const app = current;
    current = null;
    await app?.close();
  }

  const ciphertexts = async (ctx: SmsTestContext): Promise<{ id: string; value: string }[]> =>
    ctx.t.running.app
      .get(DataSource)
      .query(`SELECT id, auth_token_encrypted AS value FROM sms_channels ORDER BY id`);
  const repliesTo = (customer: string) => twilio.messages.filter((m) => m.to === customer);

  beforeAll(async () => {
    twilio = await TwilioDouble.start();
    database = await createTestDatabase('rotation');
  });
  afterAll(async () => {
    await stopApp();
    await database?.drop();
    await twilio?.stop();
  });

  it('re-encrypts from A to B while signed webhooks flow; afterwards B alone is enough', async () => {
    // 1. Key A: connect the channels.
    let ctx = await startApp(keyA);
    const channels: ConnectedChannel[] = [];
    for (let i = 0; i < 12; i += 1) channels.push(await connectChannel(ctx));
    const underA = await ciphertexts(ctx);
    expect(underA).toHaveLength(channels.length);
    expect(underA.map((row) => row.value.split('.')[1])).toEqual(underA.map(() => keyIdOf(keyA)));
    await stopApp();

    // 2. Restart with B current and A previous; webhooks flow while re-encryption runs.
    ctx = await startApp(keyB, [keyA]);
    const active = ctx;
    const webhooks: { customer: string; status: number; startedAt: number; endedAt: number }[] = [];
    let stop = false;
    const send = async (channel: ConnectedChannel, body: string) => {
      const customer = randomNumber();
      const startedAt = Date.now();
      const delivery = await textFromCustomer(active, channel, customer, body);
      webhooks.push({ customer, status: delivery.status, startedAt, endedAt: Date.now() });
    };
    const sender = async (offset: number) => {
      for (let i = offset; !stop; i += 1) {
        await send(channels[i % channels.length], `Question ${i}`);
        await sleep(50);
      }
    };
    const senders = [0, 4, 8].map(sender);
    await sleep(500);
    // One webhook per channel in flight at the moment the re-encryption starts.
    const burst = channels.map((channel) => send(channel, 'Right now'));
    const rotationStartedAt = Date.now();
    const result = await ctx.t.running.app.get(CredentialRotationService).reencryptAll();
    const rotationEndedAt = Date.now();
    await Promise.all(burst);
    await sleep(1_000);
    stop = true;
    await Promise.all(senders);

    expect(result).toEqual({ reencrypted: channels.length, total: channels.length });
    // The rotation really ran under traffic.
    expect(
      webhooks.filter((w) => w.startedAt < rotationEndedAt && w.endedAt > rotationStartedAt).length,
    ).toBeGreaterThan(0);
    expect(webhooks.filter((w) => w.status !== 200)).toEqual([]);
    await eventually(
      async () => webhooks.every((w) => repliesTo(w.customer).length > 0),
      20_000,
    ).catch(() => undefined);
    expect(webhooks.filter((w) => repliesTo(w.customer).length !== 1)).toEqual([]);

    // Every ciphertext now names B, decrypts with B alone, and no longer with A.
    const underB = await ciphertexts(ctx);
    expect(underB.map((row) => row.value.split('.')[1])).toEqual(underB.map(() => keyIdOf(keyB)));
    const onlyB = new CredentialCipher({ encryptionKeys: { current: keyB, previous: [] } });
    const onlyA = new CredentialCipher({ encryptionKeys: { current: keyA, previous: [] } });
    const tokens = new Set(channels.map((c) => c.authToken));
    for (const row of underB) {
      expect(tokens.has(onlyB.decrypt(row.value, authTokenAad(row.id)).reveal())).toBe(true);
      expect(() => onlyA.decrypt(row.value, authTokenAad(row.id))).toThrow(/not configured/);
    }
    // A second run has nothing left to do.
    expect(await ctx.t.running.app.get(CredentialRotationService).reencryptAll()).toEqual({
      reencrypted: 0,
      total: channels.length,
    });
    await stopApp();

    // 3. Drop A: an app with only B verifies every channel's webhooks and sends with its token.
    ctx = await startApp(keyB);
    const afterwards = await Promise.all(
      channels.map(async (channel) => {
        const customer = randomNumber();
        const delivery = await textFromCustomer(ctx, channel, customer, 'After the rotation');
        return { customer, status: delivery.status };
      }),
    );
    expect(afterwards.map((w) => w.status)).toEqual(channels.map(() => 200));
    for (const { customer } of afterwards)
      await twilio.waitForMessages(1, 10_000, (m) => m.to === customer);
    // A status callback, signed with the same token, is verified too.
    const [sent] = repliesTo(afterwards[0].customer);
    const callback = await twilio.sendStatusCallback(sent.sid, 'delivered', {
      deliverTo: ctx.t.statusCallbackUrl,
    });
    expect(callback.status).toBe(200);
    const status = await request(ctx.t.http)
      .get(`/api/chatbots/${channels[0].chatbotId}/channels/sms`)
      .set('Authorization', `Bearer ${channels[0].apiKey}`)
      .expect(200);
    expect(status.body.connected).toBe(true);
  });
});
