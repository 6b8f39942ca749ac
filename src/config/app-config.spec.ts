import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const key = randomBytes(32).toString('base64');
const base = { CREDENTIALS_ENCRYPTION_KEY: key };

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const config = loadConfig(base);
    expect(config).toEqual(
      expect.objectContaining({
        port: 3000,
        databaseUrl: null,
        publicBaseUrl: 'http://localhost:3000',
        twilioApiBaseUrl: 'https://api.twilio.com',
        twilioMessagingApiBaseUrl: 'https://messaging.twilio.com',
        sentryDsn: null,
        agentProvider: 'local',
        dashboardOrigins: [],
      }),
    );
    expect(config.encryptionKeys.current).toHaveLength(32);
  });

  it('runs one claiming loop, 128 reply jobs at once, 200 of one organization, by default', () => {
    const config = loadConfig(base);
    expect(config.replyWorkerConcurrency).toBe(1);
    expect(config.agentMaxConcurrency).toBe(128);
    expect(config.agentMaxConcurrencyPerOrganization).toBe(200);
    const set = loadConfig({
      ...base,
      AGENT_MAX_CONCURRENCY: '500',
      AGENT_MAX_CONCURRENCY_PER_ORGANIZATION: '20',
    });
    expect([set.agentMaxConcurrency, set.agentMaxConcurrencyPerOrganization]).toEqual([500, 20]);
    expect(failure({ ...base, AGENT_MAX_CONCURRENCY: '0' }).message).toBe(
      'Invalid configuration: AGENT_MAX_CONCURRENCY must be between 1 and 10000',
    );
    expect(failure({ ...base, AGENT_MAX_CONCURRENCY_PER_ORGANIZATION: 'many' }).message).toBe(
      'Invalid configuration: AGENT_MAX_CONCURRENCY_PER_ORGANIZATION must be a whole number, got "many"',
    );
  });

  it('keeps a pool of 4 connections per instance unless DATABASE_POOL_SIZE says otherwise', () => {
    expect(loadConfig(base).databasePoolSize).toBe(4);
    expect(loadConfig({ ...base, DATABASE_POOL_SIZE: '12' }).databasePoolSize).toBe(12);
    expect(failure({ ...base, DATABASE_POOL_SIZE: '0' }).message).toBe(
      'Invalid configuration: DATABASE_POOL_SIZE must be between 1 and 100',
    );
  });

  it('seeds a demo organization only on an embedded database on disk, outside production', () => {
    expect(loadConfig(base).demoOrganization).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).demoOrganization).toBe(false);
    expect(
      loadConfig({ ...base, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' }).demoOrganization,
    ).toBe(false);
    expect(loadConfig({ ...base, PGLITE_DATA_DIR: 'memory://' }).demoOrganization).toBe(false);
    expect(loadConfig({ ...base, DEMO_ORGANIZATION: 'off' }).demoOrganization).toBe(false);
    expect(failure({ ...base, DEMO_ORGANIZATION: 'yes' }).message).toBe(
      'Invalid configuration: DEMO_ORGANIZATION must be "on" or "off"',
    );
  });

  it('serves the API docs unless API_DOCS=off, also in production; no shutdown drain by default', () => {
    expect(loadConfig(base).apiDocs).toBe(true);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).apiDocs).toBe(true);
    expect(loadConfig({ ...base, API_DOCS: 'off' }).apiDocs).toBe(false);
    expect(loadConfig(base).shutdownDrainSeconds).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DRAIN_SECONDS: '5' }).shutdownDrainSeconds).toBe(5);
  });

  it('derives PUBLIC_BASE_URL from PORT and strips trailing slashes', () => {
    expect(loadConfig({ ...base, PORT: '8080' }).publicBaseUrl).toBe('http://localhost:8080');
    expect(loadConfig({ ...base, PUBLIC_BASE_URL: 'https://app.example.com/' }).publicBaseUrl).toBe(
      'https://app.example.com',
    );
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ TWILIO_API_BASE_URL: 'ftp://x' }, 'TWILIO_API_BASE_URL'],
    [{ TWILIO_MESSAGING_API_BASE_URL: 'ftp://x' }, 'TWILIO_MESSAGING_API_BASE_URL'],
    [{ AGENT_PROVIDER: 'magic' }, 'AGENT_PROVIDER'],
    [{ AGENT_PROVIDER: 'openai' }, 'OPENAI_API_KEY'],
    [{ DASHBOARD_ORIGINS: 'https://ok.example, nope' }, 'DASHBOARD_ORIGINS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ API_DOCS: 'yes' }, 'API_DOCS'],
    [{ SHUTDOWN_DRAIN_SECONDS: '61' }, 'SHUTDOWN_DRAIN_SECONDS'],
    [
      { CREDENTIALS_ENCRYPTION_KEY: randomBytes(16).toString('base64') },
      'CREDENTIALS_ENCRYPTION_KEY',
    ],
    [{ CREDENTIALS_ENCRYPTION_KEY: 'not base64 !!' }, 'CREDENTIALS_ENCRYPTION_KEY'],
    [
      { CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: `${key},short` },
      'CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS',
    ],
  ])('refuses %j with one line naming %s', (env, variable) => {
    const error = failure({ ...base, ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('accepts Sentry DSNs as the SDK parses them, and refuses others without echoing them', () => {
    for (const dsn of [
      'https://0123abcd@o1.ingest.sentry.io/42',
      'http://publickey@127.0.0.1:9000/1',
      'https://key@sentry.example.com/prefix/path/7',
    ]) {
      expect(loadConfig({ ...base, SENTRY_DSN: dsn }).sentryDsn).toBe(dsn);
    }
    for (const dsn of [
      'https://o1.ingest.sentry.io/42', // no public key
      'https://secretkey@o1.ingest.sentry.io', // no project
      'https://secretkey@o1.ingest.sentry.io/project',
      'ftp://secretkey@o1.ingest.sentry.io/42',
      'secretkey',
    ]) {
      const error = failure({ ...base, SENTRY_DSN: dsn });
      expect(error.variable).toBe('SENTRY_DSN');
      expect(error.message).not.toContain(dsn);
      expect(error.message).not.toContain('secretkey');
    }
  });

  it('sweeps channel health over 60 minutes by default; 0 turns the sweep off', () => {
    expect(loadConfig(base).channelHealthSweepMinutes).toBe(60);
    expect(
      loadConfig({ ...base, CHANNEL_HEALTH_SWEEP_MINUTES: '0' }).channelHealthSweepMinutes,
    ).toBe(0);
    const error = failure({ ...base, CHANNEL_HEALTH_SWEEP_MINUTES: 'hourly' });
    expect(error.message).toContain('CHANNEL_HEALTH_SWEEP_MINUTES');
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('waits 30 s for DATABASE_URL by default; DATABASE_WAIT_SECONDS changes it', () => {
    expect(loadConfig(base).databaseWaitSeconds).toBe(30);
    expect(loadConfig({ ...base, DATABASE_WAIT_SECONDS: '0' }).databaseWaitSeconds).toBe(0);
    expect(failure({ ...base, DATABASE_WAIT_SECONDS: 'soon' }).variable).toBe(
      'DATABASE_WAIT_SECONDS',
    );
  });

  it('METRICS_TOKEN: unset leaves /metrics open; a short or spaced one is refused without echoing it', () => {
    expect(loadConfig(base).metricsToken).toBeNull();
    const token = 'f3a9c0de1b7e4a5f9d2c8b6a0e1f2d3c';
    const config = loadConfig({ ...base, METRICS_TOKEN: token });
    expect(config.metricsToken?.reveal()).toBe(token);
    expect(JSON.stringify(config)).not.toContain(token);
    for (const bad of ['short-token', 'has a space in it, long enough']) {
      const error = failure({ ...base, METRICS_TOKEN: bad });
      expect(error.variable).toBe('METRICS_TOKEN');
      expect(error.message).not.toContain(bad);
      expect(error.message.split('\n')).toHaveLength(1);
    }
  });

  it('never echoes key material in the error', () => {
    const badKey = randomBytes(31).toString('base64');
    const error = failure({ CREDENTIALS_ENCRYPTION_KEY: badKey });
    expect(error.message).not.toContain(badKey);
  });

  it('refuses to start in production without an encryption key', () => {
    expect(failure({ NODE_ENV: 'production' }).variable).toBe('CREDENTIALS_ENCRYPTION_KEY');
  });

  it('generates and then reuses a development key under DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    try {
      const first = loadConfig({ DATA_DIR: dir });
      const second = loadConfig({ DATA_DIR: dir });
      expect(first.encryptionKeys.generatedAt).toBe(join(dir, 'credentials-encryption.key'));
      expect(first.encryptionKeys.current.equals(second.encryptionKeys.current)).toBe(true);
      expect(
        Buffer.from(readFileSync(join(dir, 'credentials-encryption.key'), 'utf8').trim(), 'base64'),
      ).toHaveLength(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('REPLY_JOB_EXPIRE_SECONDS against what one reply job may take', () => {
    it('accepts the defaults, and an expiry just long enough for two Twilio calls', () => {
      expect(loadConfig(base).replyJobExpireSeconds).toBe(120);
      // 2 × 1.5 s (lost-answer lookup + send) + 1 s for the job's database statements.
      expect(
        loadConfig({ ...base, TWILIO_TIMEOUT_MS: '1500', REPLY_JOB_EXPIRE_SECONDS: '4' })
          .replyJobExpireSeconds,
      ).toBe(4);
    });

    it('refuses an expiry shorter than the lookup and the send, naming both variables', () => {
      const error = failure({ ...base, REPLY_JOB_EXPIRE_SECONDS: '20' });
      expect(error.variable).toBe('REPLY_JOB_EXPIRE_SECONDS');
      expect(error.message.split('\n')).toHaveLength(1);
      expect(error.message).toContain('TWILIO_TIMEOUT_MS=10000');
      expect(error.message).toMatch(/REPLY_JOB_EXPIRE_SECONDS must be at least 21, got 20/);
      expect(
        failure({ ...base, TWILIO_TIMEOUT_MS: '1500', REPLY_JOB_EXPIRE_SECONDS: '3' }).message,
      ).toMatch(/at least 4, got 3/);
    });

    it('with AGENT_PROVIDER=openai, also every attempt of the model call', () => {
      const openai = {
        ...base,
        AGENT_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      };
      // 2 × 20 s (a retry) + 1.5 s of backoff, 2 × 10 s of Twilio, 1 s of database.
      expect(loadConfig({ ...openai, REPLY_JOB_EXPIRE_SECONDS: '63' }).openai.deadlineMs).toBe(
        41_500,
      );
      const error = failure({ ...openai, REPLY_JOB_EXPIRE_SECONDS: '62' });
      expect(error.variable).toBe('REPLY_JOB_EXPIRE_SECONDS');
      expect(error.message.split('\n')).toHaveLength(1);
      expect(error.message).toContain('OPENAI_TIMEOUT_MS=20000');
      expect(error.message).toContain('TWILIO_TIMEOUT_MS=10000');
      // The same expiry is plenty for the local provider.
      expect(loadConfig({ ...base, REPLY_JOB_EXPIRE_SECONDS: '62' }).replyJobExpireSeconds).toBe(
        62,
      );
      expect(
        failure({ ...openai, OPENAI_TIMEOUT_MS: '60000', REPLY_JOB_EXPIRE_SECONDS: '120' })
          .variable,
      ).toBe('REPLY_JOB_EXPIRE_SECONDS');
    });
  });

  it('accepts previous keys for rotation', () => {
    const previous = randomBytes(32).toString('base64');
    const config = loadConfig({ ...base, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: ` ${previous} ` });
    expect(config.encryptionKeys.previous).toHaveLength(1);
  });
});
