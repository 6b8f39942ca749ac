/**
 * The first `npm start` on a fresh machine: the embedded database on disk is empty, so the app
 * creates a demo organization and prints the Swagger URL, the demo API key and the next command
 * once. A second start on the same directory does not; production never does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppProcess,
  api,
  sleep,
  startAppProcess,
  stopAllProcesses,
  waitFor,
} from './support/app-process';

const BANNER = /Demo API key\s+(sk_\S+)/;

describe('first start on an empty embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-first-start-'));
  const start = (env: Record<string, string | undefined> = {}): Promise<AppProcess> =>
    startAppProcess({
      name: 'first-start',
      databaseUrl: '',
      twilioApiBaseUrl: 'http://127.0.0.1:9',
      env: {
        DATABASE_URL: undefined,
        NODE_ENV: undefined,
        DATA_DIR: dir,
        PGLITE_DATA_DIR: join(dir, 'pglite'),
        CREDENTIALS_ENCRYPTION_KEY: undefined,
        PUBLIC_BASE_URL: undefined,
        LOG_LEVEL: 'info',
        ...env,
      },
    });
  /** Seeding runs right after listen(): give a start that should not seed the time to do so. */
  const settle = () => sleep(1_500);

  afterAll(async () => {
    await stopAllProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  it('production mode seeds nothing, even on an empty database', async () => {
    const app = await start({
      NODE_ENV: 'production',
      CREDENTIALS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    await settle();
    expect(app.output()).not.toMatch(/Demo API key|demo organization/i);
    expect((await app.stop()).code).toBe(0);
  });

  let apiKey = '';

  it('creates the demo organization once and prints its key, the Swagger URL and what to try next', async () => {
    const app = await start();
    const banner = await waitFor('the demo banner', () => BANNER.exec(app.output()));
    apiKey = banner[1];
    const output = app.output();
    expect(output).toContain(`Swagger UI     http://localhost:${app.port}/api/docs`);
    expect(output).toContain('npm run demo');
    // Printed once, as plain text: in no JSON log line.
    expect(output.match(/Demo API key/g)).toHaveLength(1);
    const withKey = output.split('\n').filter((line) => line.includes(apiKey));
    expect(withKey.length).toBeGreaterThan(0);
    expect(withKey.filter((line) => line.trimStart().startsWith('{'))).toEqual([]);

    const { items: chatbots } = await api<{ items: { id: string; name: string }[] }>(
      app,
      apiKey,
      'GET',
      '/api/chatbots',
    );
    expect(chatbots).toEqual([expect.objectContaining({ name: 'Demo support bot' })]);
    expect(output).toContain(`/api/chatbots/${chatbots[0].id}/agent/reply`);
    const { reply } = await api<{ reply: string }>(
      app,
      apiKey,
      'POST',
      `/api/chatbots/${chatbots[0].id}/agent/reply`,
      { message: 'When are you open?' },
    );
    expect(reply).toMatch(/Monday to Friday/);
    // Starter plan: the SMS channel is allowed (a Twilio failure, not PLAN_UPGRADE_REQUIRED).
    const res = await fetch(`${app.baseUrl}/api/chatbots/${chatbots[0].id}/channels/sms`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        accountSid: `AC${'0'.repeat(32)}`,
        authToken: '0'.repeat(32),
        phoneNumber: '+358401234567',
      }),
    });
    expect(await res.json()).toEqual(expect.objectContaining({ code: 'TWILIO_UNREACHABLE' }));
    expect((await app.stop()).code).toBe(0);
  });

  it('a second start on the same database seeds nothing and the demo key still works', async () => {
    const app = await start();
    await settle();
    expect(app.output()).not.toMatch(/Demo API key/);
    expect(
      (await api<{ items: unknown[] }>(app, apiKey, 'GET', '/api/chatbots')).items,
    ).toHaveLength(1);
    expect((await app.stop()).code).toBe(0);
  });
});
