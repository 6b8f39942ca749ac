/**
 * No secret leaves its place. Every flow that touches one is driven (connect, failed connects,
 * inbound, reply failures permanent and transient, the agent failing, status callbacks, a human
 * reply, disconnect, key rotation, the CLI), then everything the system wrote or answered is
 * scanned for every secret used: the captured logs of both apps, every Sentry envelope (a local
 * ingest endpoint), every HTTP response body and header we received, the CLI's stderr, and every
 * row of every table in the public and pgboss schemas. The only place a secret may appear is the
 * CLI's org:create output, which exists to show the new API key once.
 *
 * Secrets: the Twilio Auth Tokens (also as the Basic credentials the SDK sends), the API keys,
 * both encryption keys (base64, base64url and hex) and the OpenAI API key.
 *
 * The test owns its database (a fresh PostgreSQL database beside DATABASE_URL in CI, otherwise an
 * in-memory PGlite served by PgliteServer): rotation re-encrypts every row, and the table scan
 * must see this file's rows only.
 */
import * as Sentry from '@sentry/nestjs';
import { startSentrySink } from './support/sentry-sink';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { initSentry } from '../src/config/sentry';
import { authTokenAad } from '../src/modules/channels/sms-channel-tokens';
import { CredentialCipher, keyIdOf } from '../src/modules/crypto/credential-cipher';
import { CredentialRotationService } from '../src/modules/crypto/credential-rotation.service';
import { Secret } from '../src/common/secret';
import { FakeOpenAiServer, startFakeOpenAiServer } from './support/fake-openai-server';
import { eventually, randomMessageSid, randomNumber } from './support/sms-fixtures';
import { createTestDatabase } from './support/test-database';
import { startTestApp, TEST_PUBLIC_BASE_URL, TestApp } from './support/test-app';
import { TwilioDouble } from '../tools/twilio-double';
import twilioSdk from 'twilio';

const ROOT = join(__dirname, '..');
const WEBHOOK = '/api/webhooks/twilio/sms';
const STATUS_WEBHOOK = '/api/webhooks/twilio/sms/status';

/** Runs the operator CLI against our database, as an operator would. */
function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'src/cli.ts',
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('secrets never leak', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  /** A key this instance never gets: a ciphertext under it is what a lost key leaves behind. */
  const lostKey = randomBytes(32);
  const openAiKey = `sk-proj-${randomBytes(24).toString('base64url')}`;
  /** name → value; everything scanned is searched for each. */
  const secrets = new Map<string, string>();
  const addSecret = (name: string, value: string) => secrets.set(name, value);
  const addTwilioToken = (name: string, sid: string, token: string) => {
    addSecret(name, token);
    addSecret(`${name} as Basic credentials`, Buffer.from(`${sid}:${token}`).toString('base64'));
  };
  for (const [name, key] of [
    ['encryption key A', keyA],
    ['encryption key B', keyB],
    ['encryption key lost', lostKey],
  ] as const) {
    addSecret(`${name} (base64)`, key.toString('base64'));
    addSecret(`${name} (base64url)`, key.toString('base64url'));
    addSecret(`${name} (hex)`, key.toString('hex'));
  }
  addSecret('OpenAI API key', openAiKey);

  let database: { url: string; drop(): Promise<void> };
  let twilio: TwilioDouble;
  let openai: FakeOpenAiServer;
  let sentry: Awaited<ReturnType<typeof startSentrySink>>;
  const apps: TestApp[] = [];
  /** Every HTTP response we received: status line, headers and body. */
  const responses: string[] = [];
  let cliStderr = '';
  let cliStdout = '';

  const keep = async (pending: request.Test): Promise<request.Response> => {
    const res = await pending;
    responses.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`);
    return res;
  };

  async function startApp(key: Buffer, previous: Buffer[] = []): Promise<TestApp> {
    const app = await startTestApp({
      DATABASE_URL: database.url,
      CREDENTIALS_ENCRYPTION_KEY: key.toString('base64'),
      CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: previous.map((k) => k.toString('base64')).join(','),
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_TIMEOUT_MS: '500',
      REPLY_RETRY_DELAY_SECONDS: '1',
      REPLY_RETRY_LIMIT: '1',
      QUEUE_POLL_SECONDS: '1',
      AGENT_PROVIDER: 'openai',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENAI_API_KEY: openAiKey,
      OPENAI_TIMEOUT_MS: '1000',
      // Debug logs are where accidental dumps of config or requests usually hide.
      LOG_LEVEL: 'debug',
    });
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    sentry = await startSentrySink();
    initSentry(sentry.dsn, 'test');
    [database, twilio, openai] = await Promise.all([
      createTestDatabase('secrets'),
      TwilioDouble.start(),
      startFakeOpenAiServer(),
    ]);
    openai.behave({ kind: 'answer', content: 'Happy to help!' });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await Sentry.close(2_000);
    sentry?.server.close();
    await openai?.close();
    await twilio?.stop();
    await database?.drop();
  });

  it('drives every flow that touches a secret, then finds none of them anywhere', async () => {
    let app = await startApp(keyA);
    // The CLI runs beside the app (it takes a few seconds to start).
    const cli = runCli(['org:create', '--name', 'CLI Org', '--plan', 'starter'], {
      DATABASE_URL: database.url,
      CREDENTIALS_ENCRYPTION_KEY: keyA.toString('base64'),
    });

    const organization = await app.createOrganization('starter');
    addSecret('API key (organization)', organization.apiKey);
    const free = await app.createOrganization('free');
    addSecret('API key (free organization)', free.apiKey);
    const api = (key = organization.apiKey) => ({
      get: (path: string) =>
        keep(request(app.http).get(path).set('Authorization', `Bearer ${key}`)),
      post: (path: string, body: object = {}) =>
        keep(request(app.http).post(path).set('Authorization', `Bearer ${key}`).send(body)),
      put: (path: string, body: object) =>
        keep(request(app.http).put(path).set('Authorization', `Bearer ${key}`).send(body)),
      delete: (path: string) =>
        keep(request(app.http).delete(path).set('Authorization', `Bearer ${key}`)),
    });
    const newChatbot = async (key = organization.apiKey) =>
      (await api(key).post('/api/chatbots', { name: 'Support' })).body.id as string;
    const newAccount = (name: string) => {
      const account = twilio.addAccount();
      addTwilioToken(`Auth Token (${name})`, account.sid, account.authToken);
      const phoneNumber = randomNumber();
      twilio.addNumber(account.sid, { phoneNumber });
      return { ...account, phoneNumber };
    };
    const channelPath = (chatbotId: string) => `/api/chatbots/${chatbotId}/channels/sms`;

    // Connect: success, and every way it fails.
    const chatbotId = await newChatbot();
    const main = newAccount('connected channel');
    const connectBody = {
      accountSid: main.sid,
      authToken: main.authToken,
      phoneNumber: main.phoneNumber,
      configureWebhook: true,
    };
    expect((await api().put(channelPath(chatbotId), connectBody)).status).toBe(200);
    expect((await api().get(channelPath(chatbotId))).status).toBe(200);

    const wrongToken = randomBytes(16).toString('hex');
    addTwilioToken('Auth Token (rejected by Twilio)', main.sid, wrongToken);
    const other = await newChatbot();
    const rejected = await api().put(channelPath(other), {
      ...connectBody,
      authToken: wrongToken,
    });
    expect([rejected.status, rejected.body.code]).toEqual([422, 'TWILIO_CREDENTIALS_REJECTED']);

    const unreachable = newAccount('Twilio unreachable');
    twilio.dropNext(1, { pathIncludes: unreachable.sid });
    const dropped = await api().put(channelPath(other), {
      accountSid: unreachable.sid,
      authToken: unreachable.authToken,
      phoneNumber: unreachable.phoneNumber,
    });
    expect([dropped.status, dropped.body.code]).toEqual([503, 'TWILIO_UNREACHABLE']);
    twilio.failNext(1, { status: 500 }, { pathIncludes: unreachable.sid });
    expect(
      (
        await api().put(channelPath(other), {
          accountSid: unreachable.sid,
          authToken: unreachable.authToken,
          phoneNumber: unreachable.phoneNumber,
        })
      ).status,
    ).toBe(503);

    const validToken = randomBytes(16).toString('hex');
    addSecret('Auth Token (in a 400 body)', validToken);
    const invalid = await api().put(channelPath(other), {
      accountSid: 'AC123',
      authToken: validToken,
      phoneNumber: '0401234567',
    });
    expect([invalid.status, invalid.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const malformedToken = `${randomBytes(15).toString('hex')}!?`;
    addSecret('Auth Token (malformed, in a 400 body)', malformedToken);
    expect(
      (
        await api().put(channelPath(other), {
          ...connectBody,
          authToken: malformedToken,
          unexpectedField: validToken,
        })
      ).status,
    ).toBe(400);

    const taken = await api().put(channelPath(other), connectBody);
    expect([taken.status, taken.body.code]).toEqual([409, 'NUMBER_ALREADY_CONNECTED']);
    const freeChatbot = await newChatbot(free.apiKey);
    expect((await api(free.apiKey).put(channelPath(freeChatbot), connectBody)).status).toBe(403);

    // Inbound: signed, forged, for an unknown number; then replies that fail in every way.
    const inbound = async (customer: string, body: string) => {
      const params = {
        MessageSid: randomMessageSid(),
        AccountSid: main.sid,
        From: customer,
        To: main.phoneNumber,
        Body: body,
        NumMedia: '0',
      };
      const signature = twilioSdk.getExpectedTwilioSignature(
        main.authToken,
        `${TEST_PUBLIC_BASE_URL}${WEBHOOK}`,
        params,
      );
      return keep(
        request(app.http)
          .post(WEBHOOK)
          .type('form')
          .set('X-Twilio-Signature', signature)
          .send(params),
      );
    };
    const happy = randomNumber();
    expect((await inbound(happy, 'Hello there')).status).toBe(200);
    const [reply] = await twilio.waitForMessages(1, 10_000, (m) => m.to === happy);
    const forged = await keep(
      request(app.http)
        .post(WEBHOOK)
        .type('form')
        .set('X-Twilio-Signature', 'c2lnbmVkIHdpdGggYSB3cm9uZyB0b2tlbg==')
        .send({
          MessageSid: randomMessageSid(),
          AccountSid: main.sid,
          From: happy,
          To: main.phoneNumber,
          Body: 'x',
        }),
    );
    expect(forged.status).toBe(403);

    const permanent = randomNumber();
    twilio.rejectMessagesWith(21610, 'Attempt to send to unsubscribed recipient', 400, {
      to: permanent,
    });
    const transientThenOk = randomNumber();
    const transientForGood = randomNumber();
    const timedOut = randomNumber();
    const agentDown = randomNumber();
    const sends = { operationId: 'CreateMessage' as const, pathIncludes: main.sid };
    expect((await inbound(permanent, 'Permanent failure please')).status).toBe(200);
    await eventually(async () =>
      twilio.requests.some((r) => r.form.To === permanent && r.status === 400),
    );
    twilio.failNext(1, { status: 500 }, sends);
    expect((await inbound(transientThenOk, 'Transient failure please')).status).toBe(200);
    await twilio.waitForMessages(1, 10_000, (m) => m.to === transientThenOk);
    twilio.failNext(2, { status: 503 }, sends);
    expect((await inbound(transientForGood, 'Twilio down for good')).status).toBe(200);
    await eventually(
      async () => twilio.requests.filter((r) => r.form.To === transientForGood).length >= 2,
    );
    twilio.delayNext(1, 1_500, sends);
    expect((await inbound(timedOut, 'Slow Twilio please')).status).toBe(200);
    await twilio.waitForMessages(1, 10_000, (m) => m.to === timedOut);
    openai.behave({ kind: 'error', status: 401, message: 'Incorrect API key provided' });
    expect((await inbound(agentDown, 'Agent failure please')).status).toBe(200);
    await twilio.waitForMessages(1, 10_000, (m) => m.to === agentDown);
    openai.behave({ kind: 'answer', content: 'Happy to help!' });

    // Status callbacks, good and bad news.
    const delivered = await twilio.sendStatusCallback(reply.sid, 'delivered', {
      deliverTo: app.statusCallbackUrl,
    });
    const [other1] = twilio.messages.filter((m) => m.to === transientThenOk);
    const undelivered = await twilio.sendStatusCallback(other1.sid, 'undelivered', {
      errorCode: 30003,
      deliverTo: app.statusCallbackUrl,
    });
    for (const delivery of [delivered, undelivered]) {
      expect(delivery.status).toBe(200);
      responses.push(delivery.body);
    }

    // A human takes over and replies through the same delivery path.
    const conversations = await api().get(`/api/chatbots/${chatbotId}/conversations`);
    const conversationId = conversations.body.items[0]?.id;
    expect(conversationId).toEqual(expect.any(String));
    expect((await api().post(`/api/conversations/${conversationId}/escalate`)).status).toBe(200);
    expect(
      (
        await api().post(`/api/conversations/${conversationId}/messages`, {
          body: 'Anna from support here.',
        })
      ).status,
    ).toBe(201);
    expect((await api().get(`/api/conversations/${conversationId}`)).status).toBe(200);

    // The operator CLI created an organization; its key works like any other.
    const created = await cli;
    cliStderr = created.stderr;
    cliStdout = created.stdout;
    expect(created.code).toBe(0);
    const cliKey = (
      JSON.parse(created.stdout.trim().split('\n').pop() as string) as { apiKey: string }
    ).apiKey;
    addSecret('API key (from the CLI)', cliKey);
    expect((await api(cliKey).get('/api/chatbots')).status).toBe(200);
    expect(
      (await keep(request(app.http).get('/api/chatbots').set('Authorization', `Bearer ${cliKey}x`)))
        .status,
    ).toBe(401);

    // Key rotation: restart with B current and A previous, re-encrypt, keep serving.
    await app.close();
    app = await startApp(keyB, [keyA]);
    const rotated = await app.running.app.get(CredentialRotationService).reencryptAll();
    expect(rotated.reencrypted).toBeGreaterThanOrEqual(1);
    const [{ value }] = await app.running.app
      .get(DataSource)
      .query(`SELECT auth_token_encrypted AS value FROM sms_channels`);
    expect(value.split('.')[1]).toBe(keyIdOf(keyB));
    const afterRotation = randomNumber();
    expect((await inbound(afterRotation, 'After the rotation')).status).toBe(200);
    await twilio.waitForMessages(1, 10_000, (m) => m.to === afterRotation);

    // A token that cannot be decrypted (written under a key this instance does not have, as by an
    // instance already on the next key): its webhooks answer 503 with one Sentry event, no token.
    const broken = newAccount('undecryptable channel');
    const brokenChatbot = await newChatbot();
    const connectBroken = await api().put(channelPath(brokenChatbot), {
      accountSid: broken.sid,
      authToken: broken.authToken,
      phoneNumber: broken.phoneNumber,
    });
    expect(connectBroken.status).toBe(200);
    const [{ id: brokenChannelId }] = await app.running.app
      .get(DataSource)
      .query('SELECT id FROM sms_channels WHERE phone_number = $1', [broken.phoneNumber]);
    const signedFor = (path: string, params: Record<string, string>) =>
      keep(
        request(app.http)
          .post(path)
          .type('form')
          .set(
            'X-Twilio-Signature',
            twilioSdk.getExpectedTwilioSignature(
              broken.authToken,
              `${TEST_PUBLIC_BASE_URL}${path}`,
              params,
            ),
          )
          .send(params),
      );
    const brokenInbound = () =>
      signedFor(WEBHOOK, {
        MessageSid: randomMessageSid(),
        AccountSid: broken.sid,
        From: randomNumber(),
        To: broken.phoneNumber,
        Body: 'Hello?',
      });
    expect((await brokenInbound()).status).toBe(200); // the row and its token are now cached
    const lost = new CredentialCipher({ encryptionKeys: { current: lostKey, previous: [] } });
    await app.running.app
      .get(DataSource)
      .query('UPDATE sms_channels SET auth_token_encrypted = $1 WHERE id = $2', [
        lost.encrypt(new Secret(broken.authToken), authTokenAad(brokenChannelId)),
        brokenChannelId,
      ]);
    const unavailable = [
      await brokenInbound(),
      await brokenInbound(),
      await signedFor(STATUS_WEBHOOK, {
        MessageSid: randomMessageSid(),
        MessageStatus: 'delivered',
        AccountSid: broken.sid,
        From: broken.phoneNumber,
        To: randomNumber(),
      }),
    ];
    for (const res of unavailable) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    }
    await Sentry.flush(3_000);
    const reports = sentry.envelopes.filter(
      (envelope) => envelope.includes('DecryptionError') && envelope.includes(brokenChannelId),
    );
    expect(reports).toHaveLength(1); // once a minute per channel, however often it is asked
    expect(reports[0]).toContain('"feature":"channels/sms"');
    expect(reports[0]).toContain(`"chatbot_id":"${brokenChatbot}"`);
    expect(reports[0]).toContain(`"channel_id":"${brokenChannelId}"`);

    // Disconnect: once with Twilio failing to clear the webhook (logged)...
    const second = newAccount('second channel');
    const secondChatbot = await newChatbot();
    expect(
      (
        await api().put(channelPath(secondChatbot), {
          accountSid: second.sid,
          authToken: second.authToken,
          phoneNumber: second.phoneNumber,
          configureWebhook: true,
        })
      ).status,
    ).toBe(200);
    twilio.failNext(1, { status: 500 }, { pathIncludes: second.sid });
    expect((await api().delete(channelPath(secondChatbot))).status).toBe(204);
    // ...once after its token was stored under a key this instance lacks (reported, no token)...
    const third = newAccount('channel whose token no longer decrypts');
    const thirdChatbot = await newChatbot();
    expect(
      (
        await api().put(channelPath(thirdChatbot), {
          accountSid: third.sid,
          authToken: third.authToken,
          phoneNumber: third.phoneNumber,
          configureWebhook: true,
        })
      ).status,
    ).toBe(200);
    const [{ id: thirdId }] = await app.running.app
      .get(DataSource)
      .query('SELECT id FROM sms_channels WHERE chatbot_id = $1', [thirdChatbot]);
    await app.running.app
      .get(DataSource)
      .query('UPDATE sms_channels SET auth_token_encrypted = $1 WHERE id = $2', [
        lost.encrypt(new Secret(third.authToken), authTokenAad(thirdId)),
        thirdId,
      ]);
    expect((await api().delete(channelPath(thirdChatbot))).status).toBe(204);
    // ...and cleanly.
    expect((await api().delete(channelPath(chatbotId))).status).toBe(204);
    expect((await api().get(channelPath(chatbotId))).body.connected).toBe(false);

    // ---- the scan ------------------------------------------------------------------------
    await Sentry.flush(3_000);
    const tables: string[] = [];
    const db = app.running.app.get(DataSource);
    const names: { schema: string; name: string }[] = await db.query(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
    );
    for (const { schema, name } of names) {
      const rows: { row: string }[] = await db.query(
        `SELECT row_to_json(t)::text AS row FROM "${schema}"."${name}" t`,
      );
      tables.push(...rows.map((r) => `${schema}.${name} ${r.row}`));
    }
    const sources: Record<string, string> = {
      logs: apps.flatMap((a) => a.logs).join('\n'),
      'Sentry envelopes': sentry.envelopes.join('\n'),
      'HTTP responses': responses.join('\n'),
      'CLI stderr': cliStderr,
      tables: tables.join('\n'),
    };

    // The scan looked at real material: each source holds what the flows above produced.
    expect(sources.logs).toContain('SMS flow error');
    expect(sources.logs).toContain('Twilio webhook refused');
    expect(sources.logs).toContain("Could not clear the number's SmsUrl");
    expect(sources['Sentry envelopes']).toContain('SmsUrlNotClearedError');
    expect(sources['Sentry envelopes']).toContain(`key ${keyIdOf(lostKey)} is not configured`);
    expect(sources['Sentry envelopes']).toContain('"feature":"channels/sms"');
    expect(sources['Sentry envelopes']).toContain('TwilioApiError');
    expect(sources['Sentry envelopes']).toContain('AgentError');
    expect(sources['Sentry envelopes']).toContain('DeliveryFailure');
    expect(sources.tables).toContain('public.api_keys');
    expect(sources.tables).toContain('pgboss.job');
    expect(sources['HTTP responses']).toContain('TWILIO_CREDENTIALS_REJECTED');
    expect(secrets.size).toBeGreaterThanOrEqual(20);

    const scan = (where: Record<string, string>): string[] =>
      Object.entries(where).flatMap(([source, text]) =>
        [...secrets]
          .filter(([, value]) => text.toLowerCase().includes(value.toLowerCase()))
          .map(([name]) => `${name} in ${source}`),
      );
    // The scanner finds a secret where one is meant to be: org:create prints the new key once.
    expect(scan({ 'CLI stdout': cliStdout })).toEqual(['API key (from the CLI) in CLI stdout']);
    expect(scan(sources)).toEqual([]);
  });

  describe('constant-time comparisons (source checks, not timing measurements)', () => {
    const source = (path: string) => readFileSync(join(ROOT, path), 'utf8');

    it('API keys: the SHA-256 of the presented key is compared with crypto.timingSafeEqual', () => {
      const code = source('src/modules/organizations/api-keys.service.ts');
      expect(code).toMatch(/import \{[^}]*\btimingSafeEqual\b[^}]*\} from 'node:crypto'/);
      expect(code).toMatch(/timingSafeEqual\(\s*expected,\s*sha256\(presented\)\s*\)/);
      // The comparison runs even when no key matched the prefix (a dummy hash), and nothing
      // compares hashes or keys with === or Buffer.equals.
      expect(code).toMatch(/key\?\.hash \?\? Buffer\.alloc\(32\)/);
      expect(code).not.toMatch(/\.equals\(|hash\s*===|===\s*\w*hash|presented\s*===/);
    });

    it('webhook signatures: verified by twilio.validateRequest, which compares with scmp', () => {
      const guard = source('src/modules/twilio-sms/webhooks/twilio-signature.guard.ts');
      expect(guard).toMatch(
        /twilio\.validateRequest\(\s*[\w.()]*authToken\.reveal\(\),\s*signature/,
      );
      expect(guard).not.toMatch(/signature\s*===|===\s*signature|getExpectedTwilioSignature/);
      const sdk = source('node_modules/twilio/lib/webhooks/webhooks.js');
      expect(sdk).toMatch(/return scmp\(Buffer\.from\(twilioHeader\), Buffer\.from\(signature/);
      expect(source('node_modules/scmp/index.js')).toMatch(/timingSafeEqual/);
    });
  });
});
