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
        sentryDsn: null,
        agentProvider: 'local',
        dashboardOrigins: [],
      }),
    );
    expect(config.encryptionKeys.current).toHaveLength(32);
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

  it('accepts previous keys for rotation', () => {
    const previous = randomBytes(32).toString('base64');
    const config = loadConfig({ ...base, CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: ` ${previous} ` });
    expect(config.encryptionKeys.previous).toHaveLength(1);
  });
});
