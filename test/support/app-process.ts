/**
 * The app as a real OS process, for tests about several instances, kill -9 and SIGTERM.
 *
 * Each process runs `src/main.ts` through ts-node (transpile only, no prior build) exactly as an
 * operator starts it, with its own PORT and a DATABASE_URL shared by every process of the test:
 * - DATABASE_URL set (CI's PostgreSQL run): a fresh sibling database on that server, created here
 *   and dropped at the end, so no other test file's workers share our pg-boss queues (queue
 *   options are fixed by whoever creates a queue first, and a worker of another file, holding a
 *   different encryption key and Twilio double, would take our jobs);
 * - otherwise: the embedded PGlite server started in the test process, served on loopback to
 *   every app process as they would share one PostgreSQL.
 *
 * Organizations come from the operator CLI (`src/cli.ts org:create`), channels through the HTTP
 * API of a running process; assertions read the database with `pg`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { runMigrations } from '../../src/database/database-runtime';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import type { TwilioDouble } from '../../tools/twilio-double';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const PUBLIC_BASE_URL = 'https://sms.example.test';
export const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
export const STATUS_PATH = '/api/webhooks/twilio/sms/status';
/** Shared by every process of one test file: each must decrypt the tokens another stored. */
export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const TS_NODE = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

// ---- the shared database -----------------------------------------------------------------------

export interface SharedDatabase {
  url: string;
  mode: 'embedded' | 'postgres';
  /** A small pool for assertions. */
  pool: Pool;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startSharedDatabase(label: string): Promise<SharedDatabase> {
  let url: string;
  let mode: SharedDatabase['mode'];
  let dispose: () => Promise<void>;
  const base = process.env.DATABASE_URL;
  if (base) {
    mode = 'postgres';
    ({ url, dispose } = await createSiblingDatabase(base, label));
  } else {
    mode = 'embedded';
    const server = await startEmbeddedPostgres('memory://');
    url = server.url;
    dispose = () => server.stop();
    // PGlite is one session: pg_advisory_lock cannot serialize two processes migrating at once
    // (every connection already "holds" it), so the schema is migrated here, before any process.
    await runMigrations(url);
  }
  const pool = new Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its clients' sockets have closed; the DROP … WITH (FORCE) that
  // follows can then terminate one, and an 'error' without a listener would fail the suite.
  pool.on('error', () => undefined);
  return {
    url,
    mode,
    pool,
    query: async <T>(sql: string, params: unknown[] = []) =>
      (await pool.query(sql, params)).rows as T[],
    async close() {
      await pool.end().catch(() => undefined);
      await dispose();
    },
  };
}

/** A fresh database next to DATABASE_URL's; falls back to DATABASE_URL itself if not allowed. */
async function createSiblingDatabase(
  base: string,
  label: string,
): Promise<{ url: string; dispose: () => Promise<void> }> {
  const name = `sms_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: base, max: 1 });
  admin.on('error', () => undefined);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    process.stderr.write(
      `app-process: CREATE DATABASE refused (${String(error)}); using DATABASE_URL as is\n`,
    );
    return { url: base, dispose: async () => undefined };
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async dispose() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    },
  };
}

// ---- app processes -----------------------------------------------------------------------------

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the last kill() to the exit (from the start if nobody killed it). */
  ms: number;
}

export interface AppProcess {
  name: string;
  pid: number;
  port: number;
  baseUrl: string;
  webhookUrl: string;
  statusCallbackUrl: string;
  child: ChildProcess;
  /** Everything the process wrote on stdout and stderr so far. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** SIGTERM, SIGKILL if still running after 15 s. */
  stop(): Promise<ExitInfo>;
}

export interface AppProcessOptions {
  name: string;
  databaseUrl: string;
  twilioApiBaseUrl: string;
  /** Extra or overriding environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}

/** Every child still running (apps still booting included), with a promise of its exit. */
const live = new Map<ChildProcess, Promise<void>>();
process.once('exit', () => {
  for (const child of live.keys()) child.kill('SIGKILL');
});

function track(child: ChildProcess): void {
  live.set(
    child,
    new Promise<void>((done) =>
      child.once('exit', () => {
        live.delete(child);
        done();
      }),
    ),
  );
}

/**
 * For afterAll: stops every process this file started and did not stop yet, including one still
 * booting (a failed test must not leave a process behind, nor keep Jest waiting on its pipes).
 * SIGTERM first, SIGKILL after `graceMs`.
 */
export async function stopAllProcesses(graceMs = 15_000): Promise<void> {
  await Promise.all(
    [...live].map(async ([child, exited]) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

function childEnv(
  options: AppProcessOptions,
  port: number,
): Record<string, string | undefined> | NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ...process.env,
    // Jest's flags are not the app's; the app reads only what production would set.
    NODE_OPTIONS: undefined,
    SENTRY_DSN: undefined,
    PGLITE_DATA_DIR: undefined,
    NODE_ENV: 'production',
    TS_NODE_TRANSPILE_ONLY: 'true',
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    CREDENTIALS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: undefined,
    PUBLIC_BASE_URL,
    TWILIO_API_BASE_URL: options.twilioApiBaseUrl,
    // The Twilio double serves Messaging v1 beside API v2010, on the same origin.
    TWILIO_MESSAGING_API_BASE_URL: options.env?.TWILIO_API_BASE_URL ?? options.twilioApiBaseUrl,
    AGENT_PROVIDER: 'local',
    QUEUE_POLL_SECONDS: '1',
    REPLY_RETRY_DELAY_SECONDS: '1',
    LOG_LEVEL: 'warn',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    BOT_REPLIES_PER_MINUTE: '1000',
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** Spawns `node -r ts-node/register/transpile-only src/main.ts`; resolves once /api/health is 200. */
export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await spawnApp(options, port);
    } catch (error) {
      // Another process may have taken the port between freePort() and listen(): try another.
      if (attempt < 3 && /EADDRINUSE/.test(String(error))) continue;
      throw error;
    }
  }
}

async function spawnApp(options: AppProcessOptions, port: number): Promise<AppProcess> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...TS_NODE, 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: childEnv(options, port) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let output = '';
  const capture = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout!.on('data', capture);
  child.stderr!.on('data', capture);
  let killedAt = startedAt;
  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, ms: Date.now() - killedAt };
      resolveExit(exitInfo);
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    name: options.name,
    pid: child.pid!,
    port,
    baseUrl,
    webhookUrl: `${baseUrl}${WEBHOOK_PATH}`,
    statusCallbackUrl: `${baseUrl}${STATUS_PATH}`,
    child,
    output: () => output,
    kill(signal) {
      if (exitInfo) return;
      killedAt = Date.now();
      child.kill(signal);
    },
    exited,
    isRunning: () => exitInfo === null,
    async stop() {
      if (exitInfo) return exitInfo;
      app.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };

  const deadline = startedAt + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exitInfo) {
      throw new Error(
        `${options.name} exited (${JSON.stringify(exitInfo)}) before it was ready:\n${output}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} not healthy after ${Date.now() - startedAt} ms:\n${output}`);
    }
    const healthy = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2_000) })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (healthy) return app;
    await sleep(150);
  }
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of ours (`src/main.ts`, `src/cli.ts`) to its exit; SIGKILL after `timeoutMs`. */
function runScript(
  script: string,
  args: string[],
  options: Omit<AppProcessOptions, 'readyTimeoutMs'>,
  timeoutMs: number,
): Promise<ProcessRun> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [...TS_NODE, script, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(options, 0) as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs `src/main.ts` until it exits by itself, for starts that must be refused; SIGKILL after
 * `timeoutMs` (then `code` is null and the test sees a process that started when it should not).
 */
export function runUntilExit(
  options: Omit<AppProcessOptions, 'name' | 'readyTimeoutMs'>,
  timeoutMs = 60_000,
): Promise<ProcessRun> {
  return runScript('src/main.ts', [], { name: 'refused', ...options }, timeoutMs);
}

// ---- the operator CLI --------------------------------------------------------------------------

export async function runCli(
  args: string[],
  databaseUrl: string,
  timeoutMs = 120_000,
): Promise<string> {
  const run = await runScript(
    'src/cli.ts',
    args,
    { name: 'cli', databaseUrl, twilioApiBaseUrl: 'http://127.0.0.1:9' },
    timeoutMs,
  );
  if (run.code !== 0) {
    throw new Error(`cli ${args.join(' ')} failed (${run.code ?? run.signal}): ${run.stderr}`);
  }
  return run.stdout;
}

export async function createOrganization(
  databaseUrl: string,
  name: string,
  plan = 'pro',
): Promise<{ organizationId: string; apiKey: string }> {
  const stdout = await runCli(['org:create', '--name', name, '--plan', plan], databaseUrl);
  return JSON.parse(stdout.trim().split('\n').pop()!) as { organizationId: string; apiKey: string };
}

// ---- the HTTP API of a process ------------------------------------------------------------------

export async function api<T = Record<string, unknown>>(
  app: Pick<AppProcess, 'baseUrl'>,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
  expectedStatus = 200,
): Promise<T> {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expectedStatus) {
    throw new Error(`${method} ${path}: expected ${expectedStatus}, got ${res.status} ${text}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

export interface ProcessChannel {
  chatbotId: string;
  accountSid: string;
  authToken: string;
  phoneNumber: string;
}

let numberCounter = 0;
/** Distinct E.164 numbers for this test file (a random block, then counting). */
const numberBlock = 10_000_000 + Math.floor(Math.random() * 80_000_000);
export const nextNumber = (): string => `+3584${numberBlock + (numberCounter += 1)}`;

/** A chatbot with one knowledge document and a connected SMS channel, through `app`'s API. */
export async function connectChannel(
  app: Pick<AppProcess, 'baseUrl'>,
  apiKey: string,
  twilio: TwilioDouble,
  name: string,
): Promise<ProcessChannel> {
  const chatbot = await api<{ id: string }>(app, apiKey, 'POST', '/api/chatbots', { name }, 201);
  await api(
    app,
    apiKey,
    'POST',
    `/api/chatbots/${chatbot.id}/knowledge`,
    { title: 'Hours', content: 'We are open Monday to Friday from 9 to 17.' },
    201,
  );
  const { sid: accountSid, authToken } = twilio.addAccount();
  const phoneNumber = nextNumber();
  twilio.addNumber(accountSid, { phoneNumber });
  await api(app, apiKey, 'PUT', `/api/chatbots/${chatbot.id}/channels/sms`, {
    accountSid,
    authToken,
    phoneNumber,
    configureWebhook: true,
  });
  return { chatbotId: chatbot.id, accountSid, authToken, phoneNumber };
}

// ---- small helpers -------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export const randomMessageSid = (): string => `SM${randomBytes(16).toString('hex')}`;

/** Polls `check` until it returns a truthy value; the error names what was awaited. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not reached in ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Runs `task` over `items` with at most `concurrency` at a time; results in input order. */
export async function mapConcurrent<I, O>(
  items: I[],
  concurrency: number,
  task: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** pg-boss jobs of our two queues not yet finished (created, retry or active). */
export async function unfinishedJobs(db: SharedDatabase): Promise<number> {
  const [{ count }] = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM pgboss.job
     WHERE name IN ('sms-reply', 'sms-send') AND state IN ('created', 'retry', 'active')`,
  );
  return count;
}
