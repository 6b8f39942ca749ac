/**
 * The one place that reads the process environment. Everything else receives a typed,
 * validated AppConfig through dependency injection.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../common/errors/domain-error';
import { Secret } from '../common/secret';

export type AgentProvider = 'local' | 'openai';

export interface AppConfig {
  nodeEnv: string;
  port: number;
  /** Unset: the embedded PGlite database is used. */
  databaseUrl: string | null;
  /** How long the API waits at start for a DATABASE_URL that refuses connections or is starting up. */
  databaseWaitSeconds: number;
  /**
   * Connections of the app's own pool (DATABASE_POOL_SIZE): statements running at once per
   * instance; the job queue keeps a few of its own beside it.
   */
  databasePoolSize: number;
  pgliteDataDir: string;
  /** Current key first; previous keys are accepted for decryption only. */
  encryptionKeys: { current: Buffer; previous: Buffer[]; generatedAt?: string };
  publicBaseUrl: string;
  twilioApiBaseUrl: string;
  /** Messaging v1 (Messaging Services), Twilio's second API origin. */
  twilioMessagingApiBaseUrl: string;
  twilioTimeoutMs: number;
  sentryDsn: string | null;
  agentProvider: AgentProvider;
  openai: {
    apiKey: string | null;
    baseUrl: string | null;
    model: string;
    /** One attempt of a model call. */
    timeoutMs: number;
    /** A whole model call, its SDK retry and backoff included. */
    deadlineMs: number;
  };
  dashboardOrigins: string[];
  /** Serve Swagger UI at /api/docs and the OpenAPI document at /api/docs-json (API_DOCS=on). */
  apiDocs: boolean;
  logLevel: string;
  /** Bearer token GET /metrics requires (METRICS_TOKEN); null: /metrics is open. */
  metricsToken: Secret | null;
  /**
   * On SIGTERM, readiness answers 503 for this long before the server stops taking requests, so
   * a load balancer polling it moves traffic elsewhere first.
   */
  shutdownDrainSeconds: number;
  /** Fetch loops per reply queue in this process (each claims jobs in batches); 0: HTTP only. */
  replyWorkerConcurrency: number;
  /** Reply jobs (and so model calls) running at once in this process. */
  agentMaxConcurrency: number;
  /** Reply jobs of one organization running at once, every instance together. */
  agentMaxConcurrencyPerOrganization: number;
  /** How often idle workers poll (pg-boss minimum 0.5 s); a local enqueue also wakes them at once. */
  queuePollSeconds: number;
  /** Every connected channel is re-checked at least this often by the sweep (0: no sweep). */
  channelHealthSweepMinutes: number;
  /** First retry delay of a failed reply; doubles (pg-boss backoff) up to replyRetryLimit tries. */
  replyRetryDelaySeconds: number;
  replyRetryLimit: number;
  /**
   * A reply job still running after this long is taken to have died with its process (kill -9)
   * and is handed out again. At least replyJobBudgetMs (checked at start).
   */
  replyJobExpireSeconds: number;
  /** Loop guard: at most this many bot replies per conversation per minute. */
  botRepliesPerMinute: number;
  /**
   * Webhook requests that fail verification, per client address per minute, before that address's
   * failing requests get 429. A correctly signed webhook is never limited.
   */
  webhookFailuresPerMinute: number;
  /** Unknown or revoked API keys per client address per minute, before that address gets 429. */
  apiKeyFailuresPerMinute: number;
  /** Dashboard API budget per API key, all routes and instances together (requests per minute). */
  apiRateLimitPerMinute: number;
  /**
   * Create a demo organization, chatbot and API key when the embedded database on disk is empty
   * (first `npm start`). Never in production, never on DATABASE_URL or an in-memory database.
   */
  demoOrganization: boolean;
}

/** An environment variable the app cannot start with: one line naming it (never its value). */
export class ConfigError extends DomainError {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super('CONFIG_INVALID', `Invalid configuration: ${variable} ${reason}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The openai provider's SDK retries a failed model call once; the reply job owns longer schedules. */
export const OPENAI_MAX_RETRIES = 1;
/** Room for the SDK's backoff between the attempts of one model call. */
const OPENAI_BACKOFF_ALLOWANCE_MS = 1_500;
/** A reply job's own database statements (milliseconds each on a healthy database). */
const JOB_DATABASE_ALLOWANCE_MS = 1_000;

/**
 * The longest one reply job can run: the agent's model call (every attempt, AGENT_PROVIDER=openai),
 * then the lost-answer lookup and the send, one Twilio call each. A job that outlives
 * REPLY_JOB_EXPIRE_SECONDS is handed out again while its send may still be in flight, and the
 * customer is texted twice, so a shorter expiry is refused at start.
 */
export function replyJobBudgetMs(
  config: Pick<AppConfig, 'agentProvider' | 'twilioTimeoutMs' | 'openai'>,
): number {
  const agentMs = config.agentProvider === 'openai' ? config.openai.deadlineMs : 0;
  return agentMs + 2 * config.twilioTimeoutMs + JOB_DATABASE_ALLOWANCE_MS;
}

function checkReplyJobExpiry(config: AppConfig): void {
  const minimum = Math.ceil(replyJobBudgetMs(config) / 1000);
  if (config.replyJobExpireSeconds >= minimum) return;
  const calls =
    config.agentProvider === 'openai'
      ? `the model call (OPENAI_TIMEOUT_MS=${config.openai.timeoutMs}, ${OPENAI_MAX_RETRIES + 1} attempts) and two Twilio calls (TWILIO_TIMEOUT_MS=${config.twilioTimeoutMs})`
      : `two Twilio calls (TWILIO_TIMEOUT_MS=${config.twilioTimeoutMs}: the lookup of a lost send, then the send)`;
  throw new ConfigError(
    'REPLY_JOB_EXPIRE_SECONDS',
    `must be at least ${minimum}, got ${config.replyJobExpireSeconds}: a reply job may wait for ${calls}, and one that expires while its send is in flight runs again and texts the customer twice`,
  );
}

function parseInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function parseUrl(name: string, raw: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * Sentry's own DSN grammar (@sentry/core's dsnFromString): protocol, public key, host, optional
 * port and path, a numeric project id. The SDK prints a DSN it cannot parse to stderr, so
 * src/instrument.ts hands it only a DSN that passes this.
 */
const SENTRY_DSN =
  /^(https?):\/\/\w+(?::\w*)?@(?:\[[:.%\w]+\]|[\w.-]+)(?::\d+)?\/(?:[^?#]*\/)?\d+[^/]*$/;

export const isSentryDsn = (raw: string): boolean => SENTRY_DSN.test(raw);

/** Never echoes the value: a DSN is a credential for the project's ingest endpoint. */
function parseSentryDsn(raw: string): string {
  if (!isSentryDsn(raw)) {
    throw new ConfigError(
      'SENTRY_DSN',
      'must be a Sentry DSN such as https://PUBLIC_KEY@o0.ingest.sentry.io/PROJECT_ID (value not shown)',
    );
  }
  return raw;
}

/** A bearer token that fits an Authorization header as it is; never echoes the value. */
function parseMetricsToken(raw: string): Secret {
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) {
    throw new ConfigError(
      'METRICS_TOKEN',
      'must be 16 to 256 printable ASCII characters without spaces, e.g. openssl rand -hex 32 (value not shown)',
    );
  }
  return new Secret(raw);
}

/** Decodes one base64 key; never echoes the value in the error. */
export function decodeKey(name: string, raw: string): Buffer {
  const trimmed = raw.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new ConfigError(name, 'must be base64');
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new ConfigError(name, `must decode to exactly 32 bytes, got ${key.length}`);
  return key;
}

function loadEncryptionKeys(
  env: NodeJS.ProcessEnv,
  nodeEnv: string,
  dataDir: string,
): AppConfig['encryptionKeys'] {
  const previous = (env.CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => decodeKey('CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS', part));
  const raw = env.CREDENTIALS_ENCRYPTION_KEY;
  if (raw) return { current: decodeKey('CREDENTIALS_ENCRYPTION_KEY', raw), previous };
  if (nodeEnv === 'production')
    throw new ConfigError('CREDENTIALS_ENCRYPTION_KEY', 'is required when NODE_ENV=production');
  // Development convenience: a key generated once and kept beside the embedded database.
  const file = resolve(dataDir, 'credentials-encryption.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  }
  return { current: decodeKey(file, readFileSync(file, 'utf8')), previous, generatedAt: file };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const nodeEnv = env.NODE_ENV || 'development';
  const port = parseInteger(env, 'PORT', 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL
    ? parseUrl('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:'])
    : null;
  const dataDir = resolve(env.DATA_DIR || './data');
  const pgliteDataDir = env.PGLITE_DATA_DIR || resolve(dataDir, 'pglite');
  const publicBaseUrl = parseUrl(
    'PUBLIC_BASE_URL',
    env.PUBLIC_BASE_URL || `http://localhost:${port}`,
    ['http:', 'https:'],
  );
  const twilioApiBaseUrl = parseUrl(
    'TWILIO_API_BASE_URL',
    env.TWILIO_API_BASE_URL || 'https://api.twilio.com',
    ['http:', 'https:'],
  );
  const twilioMessagingApiBaseUrl = parseUrl(
    'TWILIO_MESSAGING_API_BASE_URL',
    env.TWILIO_MESSAGING_API_BASE_URL || 'https://messaging.twilio.com',
    ['http:', 'https:'],
  );
  const sentryDsn = env.SENTRY_DSN ? parseSentryDsn(env.SENTRY_DSN) : null;
  const agentProvider = (env.AGENT_PROVIDER || 'local') as AgentProvider;
  if (!['local', 'openai'].includes(agentProvider)) {
    throw new ConfigError('AGENT_PROVIDER', 'must be "local" or "openai"');
  }
  const openaiBaseUrl = env.OPENAI_BASE_URL
    ? parseUrl('OPENAI_BASE_URL', env.OPENAI_BASE_URL, ['http:', 'https:'])
    : null;
  if (agentProvider === 'openai' && !env.OPENAI_API_KEY && !openaiBaseUrl) {
    throw new ConfigError(
      'OPENAI_API_KEY',
      'is required when AGENT_PROVIDER=openai (or set OPENAI_BASE_URL for a local server)',
    );
  }
  const dashboardOrigins = (env.DASHBOARD_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => parseUrl('DASHBOARD_ORIGINS', origin, ['http:', 'https:']));
  const demo = env.DEMO_ORGANIZATION || 'on';
  if (!['on', 'off'].includes(demo))
    throw new ConfigError('DEMO_ORGANIZATION', 'must be "on" or "off"');
  const apiDocs = env.API_DOCS || 'on';
  if (!['on', 'off'].includes(apiDocs)) throw new ConfigError('API_DOCS', 'must be "on" or "off"');
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  const openaiTimeoutMs = parseInteger(env, 'OPENAI_TIMEOUT_MS', 20_000, 100, 300_000);
  const config: AppConfig = {
    nodeEnv,
    port,
    databaseUrl,
    databaseWaitSeconds: parseInteger(env, 'DATABASE_WAIT_SECONDS', 30, 0, 3600),
    databasePoolSize: parseInteger(env, 'DATABASE_POOL_SIZE', 4, 1, 100),
    pgliteDataDir,
    encryptionKeys: loadEncryptionKeys(env, nodeEnv, dataDir),
    publicBaseUrl,
    twilioApiBaseUrl,
    twilioMessagingApiBaseUrl,
    twilioTimeoutMs: parseInteger(env, 'TWILIO_TIMEOUT_MS', 10_000, 100, 120_000),
    sentryDsn,
    agentProvider,
    openai: {
      apiKey: env.OPENAI_API_KEY || null,
      baseUrl: openaiBaseUrl,
      model: env.OPENAI_MODEL || 'gpt-4o-mini',
      timeoutMs: openaiTimeoutMs,
      deadlineMs: openaiTimeoutMs * (OPENAI_MAX_RETRIES + 1) + OPENAI_BACKOFF_ALLOWANCE_MS,
    },
    dashboardOrigins,
    apiDocs: apiDocs === 'on',
    logLevel,
    metricsToken: env.METRICS_TOKEN ? parseMetricsToken(env.METRICS_TOKEN) : null,
    shutdownDrainSeconds: parseInteger(env, 'SHUTDOWN_DRAIN_SECONDS', 0, 0, 60),
    replyWorkerConcurrency: parseInteger(env, 'REPLY_WORKER_CONCURRENCY', 1, 0, 64),
    agentMaxConcurrency: parseInteger(env, 'AGENT_MAX_CONCURRENCY', 128, 1, 10_000),
    agentMaxConcurrencyPerOrganization: parseInteger(
      env,
      'AGENT_MAX_CONCURRENCY_PER_ORGANIZATION',
      200,
      1,
      100_000,
    ),
    queuePollSeconds: parseInteger(env, 'QUEUE_POLL_SECONDS', 2, 1, 60),
    channelHealthSweepMinutes: parseInteger(env, 'CHANNEL_HEALTH_SWEEP_MINUTES', 60, 0, 1440),
    replyRetryDelaySeconds: parseInteger(env, 'REPLY_RETRY_DELAY_SECONDS', 5, 1, 3600),
    replyRetryLimit: parseInteger(env, 'REPLY_RETRY_LIMIT', 8, 0, 50),
    replyJobExpireSeconds: parseInteger(env, 'REPLY_JOB_EXPIRE_SECONDS', 120, 2, 3600),
    botRepliesPerMinute: parseInteger(env, 'BOT_REPLIES_PER_MINUTE', 6, 1, 1000),
    webhookFailuresPerMinute: parseInteger(env, 'WEBHOOK_FAILURES_PER_MINUTE', 60, 1, 1_000_000),
    apiKeyFailuresPerMinute: parseInteger(env, 'API_KEY_FAILURES_PER_MINUTE', 30, 1, 1_000_000),
    apiRateLimitPerMinute: parseInteger(env, 'API_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    demoOrganization:
      demo === 'on' &&
      nodeEnv !== 'production' &&
      !databaseUrl &&
      !pgliteDataDir.startsWith('memory://'),
  };
  checkReplyJobExpiry(config);
  return config;
}

/** For dev tools (the demo): the environment, with `defaults` under it and `overrides` over it. */
export function loadConfigWith(
  overrides: Record<string, string>,
  defaults: Record<string, string> = {},
): AppConfig {
  return loadConfig({ ...defaults, ...process.env, ...overrides });
}

/** Injection token for AppConfig (an interface has no runtime value). */
export const APP_CONFIG = Symbol('APP_CONFIG');
