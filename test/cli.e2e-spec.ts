/**
 * The operator CLI as a real process, in both database modes: against DATABASE_URL when set,
 * otherwise against an embedded data directory — opened by the CLI itself when no API runs, and
 * through the running API's embedded server when one does.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestApp, TestApp } from './support/test-app';
import { createSiblingDatabase, TestDatabase } from './support/test-database';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

describe('CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-cli-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    DATA_DIR: dir,
    PGLITE_DATA_DIR: join(dir, 'pglite'),
    CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TS_NODE_TRANSPILE_ONLY: 'true',
  };
  const cli = (...args: string[]) =>
    run('node', ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env,
    });
  const cliFailure = async (...args: string[]) => {
    try {
      await cli(...args);
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
    throw new Error('expected the command to fail');
  };
  let app: TestApp | null = null;
  // On the PostgreSQL run the CLI and the app share a fresh database of this test's own.
  let database: TestDatabase | null = null;

  beforeAll(async () => {
    if (process.env.DATABASE_URL) {
      database = await createSiblingDatabase(process.env.DATABASE_URL, 'cli');
      env.DATABASE_URL = database.url;
    }
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('org:create prints one JSON line with the organization and a working API key', async () => {
    const { stdout } = await cli('org:create', '--name', 'Acme Oy', '--plan', 'starter');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]);
    expect(created).toEqual({
      organizationId: expect.any(String),
      apiKey: expect.stringMatching(/^sk_/),
    });

    // The API on the same database (the directory the CLI just wrote, or DATABASE_URL) accepts it.
    app = await startTestApp({
      PGLITE_DATA_DIR: env.PGLITE_DATA_DIR,
      CREDENTIALS_ENCRYPTION_KEY: env.CREDENTIALS_ENCRYPTION_KEY,
      DATABASE_URL: env.DATABASE_URL,
    });
    await request(app.http)
      .get('/api/chatbots')
      .set('Authorization', `Bearer ${created.apiKey}`)
      .expect(200);

    // While the API runs, key:create and key:revoke go through its embedded server.
    const { stdout: keyOut } = await cli('key:create', '--org', created.organizationId);
    const second = JSON.parse(keyOut);
    expect(second).toEqual({ keyId: expect.any(String), apiKey: expect.stringMatching(/^sk_/) });
    await request(app.http)
      .get('/api/chatbots')
      .set('Authorization', `Bearer ${second.apiKey}`)
      .expect(200);
    const { stdout: revokeOut } = await cli('key:revoke', '--key', second.keyId);
    expect(JSON.parse(revokeOut)).toEqual({ revoked: true });
    await request(app.http)
      .get('/api/chatbots')
      .set('Authorization', `Bearer ${second.apiKey}`)
      .expect(401);
    await request(app.http)
      .get('/api/chatbots')
      .set('Authorization', `Bearer ${created.apiKey}`)
      .expect(200);
  });

  it('refuses a bad plan, a missing name and an unknown command with one line on stderr and exit 1', async () => {
    const badPlan = await cliFailure('org:create', '--name', 'X', '--plan', 'platinum');
    expect(badPlan.code).toBe(1);
    expect(badPlan.stdout).toBe('');
    expect(badPlan.stderr.trim()).toMatch(/plan must be one of free, starter, pro, enterprise/);
    expect((await cliFailure('org:create', '--plan', 'pro')).stderr).toMatch(/--name is required/);
    expect((await cliFailure('org:explode')).stderr).toMatch(/Unknown command/);
  });

  it('the API refuses to start on invalid configuration with one line naming the variable', async () => {
    const failure = await run('node', ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...env, PORT: 'not-a-port' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).toBe(1);
    const stderr = (failure as { stderr: string }).stderr.trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toContain('PORT');
  });
});
