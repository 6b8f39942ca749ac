/**
 * A webhook acknowledged with 200 is answered exactly once even if the process stops between
 * the 200 and the reply: the job is in the database, and a restarted process picks it up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TwilioDouble } from '../tools/twilio-double';
import { startTestApp, TestApp, TEST_PUBLIC_BASE_URL, authed } from './support/test-app';
import { randomNumber } from './support/sms-fixtures';
import { createSiblingDatabase, TestDatabase } from './support/test-database';

describe('reply durability across a restart', () => {
  let twilio: TwilioDouble;
  let dataDir: string;
  let database: TestDatabase | null = null;
  const env = () => ({
    TWILIO_API_BASE_URL: twilio.url,
    CREDENTIALS_ENCRYPTION_KEY: key,
    QUEUE_POLL_SECONDS: '1',
    // One database that outlives the first app: on the embedded run, a data directory the
    // second app opens again (so this also proves a clean close keeps the data).
    ...(database ? { DATABASE_URL: database.url } : { PGLITE_DATA_DIR: join(dataDir, 'pglite') }),
  });
  const key = randomBytes(32).toString('base64');

  beforeAll(async () => {
    twilio = await TwilioDouble.start();
    dataDir = mkdtempSync(join(tmpdir(), 'sms-durability-'));
    if (process.env.DATABASE_URL) {
      database = await createSiblingDatabase(process.env.DATABASE_URL, 'durability');
    }
  });
  afterAll(async () => {
    await twilio.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a reply queued by a process that stopped is sent once by the next one', async () => {
    let first: TestApp | null = await startTestApp({ ...env(), REPLY_WORKER_CONCURRENCY: '0' });
    const { apiKey } = await first.createOrganization('starter');
    const chatbot = await authed(first.http, apiKey)
      .post('/api/chatbots')
      .send({ name: 'Bot' })
      .expect(201);
    const account = twilio.addAccount();
    const phoneNumber = randomNumber();
    twilio.addNumber(account.sid, { phoneNumber });
    await authed(first.http, apiKey)
      .put(`/api/chatbots/${chatbot.body.id}/channels/sms`)
      .send({
        accountSid: account.sid,
        authToken: account.authToken,
        phoneNumber,
        configureWebhook: true,
      })
      .expect(200);
    const customer = randomNumber();
    const delivery = await twilio.sendInboundMessage({
      to: phoneNumber,
      from: customer,
      body: 'Are you there?',
      url: `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`,
      deliverTo: first.webhookUrl,
    });
    expect(delivery.status).toBe(200);
    await first.close();
    first = null;
    expect(twilio.messages.filter((m) => m.to === customer)).toHaveLength(0);

    const second = await startTestApp(env());
    try {
      await twilio.waitForMessages(1, 15_000, (m) => m.to === customer);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(twilio.messages.filter((m) => m.to === customer)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
