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
/**
 * The first command starts from nothing: ts-node compiles the CLI, then an embedded database is
 * created and migrated, then the app starts on it. Minutes on a busy 2-core machine, not a speed
 * this test judges; the later commands reuse what it set up.
 */
const FIRST_START_TIMEOUT_MS = 180_000;
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
  const cliIn = (extraEnv: NodeJS.ProcessEnv, ...args: string[]) =>
    run('node', ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
    });
  const cli = (...args: string[]) => cliIn({}, ...args);
  const failureOf = async (command: Promise<unknown>) => {
    try {
      await command;
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
    throw new Error('expected the command to fail');
  };
  const cliFailure = async (...args: string[]) => failureOf(cli(...args));
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

  it(
    'org:create prints one JSON line with the organization and a working API key',
    async () => {
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
    },
    FIRST_START_TIMEOUT_MS,
  );

  it('refuses a bad plan, a missing name and an unknown command with one line on stderr and exit 1', async () => {
    const badPlan = await cliFailure('org:create', '--name', 'X', '--plan', 'platinum');
    expect(badPlan.code).toBe(1);
    expect(badPlan.stdout).toBe('');
    expect(badPlan.stderr.trim()).toMatch(/plan must be one of free, starter, pro, enterprise/);
    const noName = await cliFailure('org:create', '--plan', 'pro');
    expect(noName.stderr).toBe("error: required option '--name <name>' not specified\n");
    const unknown = await cliFailure('org:creat');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("error: unknown command 'org:creat' (Did you mean org:create?)\n");
  });

  it('--help lists every command, and each command its options, on stdout with exit 0', async () => {
    const { stdout } = await cli('--help');
    for (const command of [
      'org:create',
      'key:create',
      'key:revoke',
      'credentials:reencrypt',
      'migration:run',
    ]) {
      expect(stdout).toContain(command);
    }
    const orgCreate = (await cli('org:create', '--help')).stdout;
    expect(orgCreate).toContain('Usage: npm run cli -- org:create [options]');
    expect(orgCreate).toMatch(/--name <name>/);
    expect(orgCreate).toMatch(/--plan <plan>\s+its plan: free, starter, pro, enterprise/);
    expect((await cli('key:create', '--help')).stdout).toContain('--org <organizationId>');
    expect((await cli('key:revoke', '--help')).stdout).toContain('--key <keyIdOrKey>');
    expect((await cli('credentials:reencrypt', '--help')).stdout).toContain(
      'CREDENTIALS_ENCRYPTION_KEY',
    );
    expect((await cli('migration:run', '--help')).stdout).toContain('Apply pending');
  });

  it('refuses an in-memory embedded database instead of printing a key no server knows', async () => {
    const failure = await failureOf(
      cliIn(
        { DATABASE_URL: undefined, PGLITE_DATA_DIR: 'memory://' },
        ...['org:create', '--name', 'Ghost', '--plan', 'pro'],
      ),
    );
    const { code, stdout, stderr } = failure;
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Invalid configuration: PGLITE_DATA_DIR is memory:\/\/, an in-memory database/,
      ),
    ]);
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
