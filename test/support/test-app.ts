/**
 * Boots the real application for e2e tests: the same createApplication() as main.ts, on an
 * in-memory embedded database (or DATABASE_URL when the environment sets it), with logs captured
 * so tests can assert on them and scan them for secrets.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createApplication, RunningApplication } from '../../src/bootstrap';
import { loadConfig, AppConfig } from '../../src/config/app-config';
import { createSiblingDatabase } from './test-database';
import { ApiKeysService } from '../../src/modules/organizations/api-keys.service';
import type { Plan } from '../../src/modules/organizations/organization.entity';

export const TEST_PUBLIC_BASE_URL = 'https://sms.example.test';

export interface TestApp {
  running: RunningApplication;
  config: AppConfig;
  http: App;
  /** Where the app listens (loopback), for callers outside the process such as the Twilio double. */
  baseUrl: string;
  webhookUrl: string;
  statusCallbackUrl: string;
  /** Every log line the app wrote, raw. */
  logs: string[];
  createOrganization(plan?: Plan): Promise<{ organizationId: string; apiKey: string }>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  // On CI's PostgreSQL run every app gets a fresh database of its own unless the test shares
  // one on purpose (env.DATABASE_URL); on the embedded run, an in-memory one (below).
  const own =
    process.env.DATABASE_URL && !env.DATABASE_URL
      ? await createSiblingDatabase(process.env.DATABASE_URL, 'app')
      : null;
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = loadConfig({
    ...process.env,
    PGLITE_DATA_DIR: 'memory://',
    CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL,
    LOG_LEVEL: 'info',
    PORT: '0',
    // The Twilio double serves Messaging v1 beside API v2010, on the same origin.
    ...(env.TWILIO_API_BASE_URL ? { TWILIO_MESSAGING_API_BASE_URL: env.TWILIO_API_BASE_URL } : {}),
    // The channel health sweep would add Twilio calls to tests that count them: off unless a
    // test turns it on (channel-health.e2e-spec.ts).
    CHANNEL_HEALTH_SWEEP_MINUTES: '0',
    ...env,
    ...(own ? { DATABASE_URL: own.url } : {}),
  });
  const running = await createApplication(config, { logStream });
  await running.app.listen(0, '127.0.0.1');
  const http = running.app.getHttpServer() as App;
  const baseUrl = (await running.app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    running,
    config,
    http,
    baseUrl,
    webhookUrl: `${baseUrl}/api/webhooks/twilio/sms`,
    statusCallbackUrl: `${baseUrl}/api/webhooks/twilio/sms/status`,
    logs,
    createOrganization: (plan: Plan = 'starter') =>
      running.app
        .get(ApiKeysService)
        .createOrganization(`Org ${randomBytes(3).toString('hex')}`, plan),
    close: async () => {
      await running.close();
      await own?.drop();
    },
  };
}

/** supertest with the organization's key. */
export const authed = (http: App, apiKey: string) => ({
  get: (path: string) => request(http).get(path).set('Authorization', `Bearer ${apiKey}`),
  post: (path: string) => request(http).post(path).set('Authorization', `Bearer ${apiKey}`),
  put: (path: string) => request(http).put(path).set('Authorization', `Bearer ${apiKey}`),
  patch: (path: string) => request(http).patch(path).set('Authorization', `Bearer ${apiKey}`),
  delete: (path: string) => request(http).delete(path).set('Authorization', `Bearer ${apiKey}`),
});

/** The contract's error shape, asserted in one place. */
export function expectError(body: unknown, statusCode: number, code: string): void {
  expect(body).toEqual(expect.objectContaining({ statusCode, code, message: expect.any(String) }));
}
