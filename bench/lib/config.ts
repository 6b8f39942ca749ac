import { resolve } from 'node:path';

/**
 * Every knob of the benchmark, read once from the environment. Defaults give a full run of about
 * 5 minutes on 2 cores; BENCH_DURATION_SECONDS scales every timed load run.
 */
export interface BenchConfig {
  /** Seconds of each measured load run (saturation, fixed rate, growth tiers). */
  durationSeconds: number;
  /** Seconds of unmeasured load before each target's first run (JIT, pools, caches). */
  warmupSeconds: number;
  /** Concurrent connections of the saturation runs. */
  connections: number;
  /** Arrival rate of the fixed-rate runs (requests per second). */
  fixedRate: number;
  /** How the fixed rate is produced: evenly paced (default) or autocannon's overallRate. */
  rateGenerator: 'paced' | 'autocannon';
  /** Channels the throughput and end-to-end runs spread over (connected through the API). */
  channels: number;
  /** Distinct customer numbers the throughput runs draw from. */
  customers: number;
  e2eMessages: number;
  e2eRate: number;
  /** How long to wait for the last reply before counting a message as lost. */
  e2eTimeoutSeconds: number;
  /** Channel counts of the growth runs; the first must equal `channels`. */
  channelTiers: number[];
  /** Longest wait for the reply queue to empty between runs before its rest is cancelled. */
  settleSeconds: number;
  /** Above this projected time, channels are inserted through SQL instead of the API. */
  apiConnectBudgetSeconds: number;
  historySizes: number[];
  /** Messages sent one at a time to each history conversation. */
  historySamples: number;
  inboxConversations: number;
  /** Page (1-based) whose latency is compared with the first page's. */
  inboxDeepPage: number;
  inboxSamples: number;
  /** Skip parts for quick iterations, e.g. BENCH_ONLY=throughput,e2e or `-- --only replies` (scaleout: PostgreSQL only). */
  only: Set<string> | null;
  /** Latency of every completion of the benchmark's model server (replies, fairness). */
  modelLatencyMs: number;
  /** Backlogs drained by the local agent (drain). */
  drainSizes: number[];
  /** Completed jobs added to pg-boss's table before the last drain (0: that drain is skipped). */
  drainCompletedJobs: number;
  /** Webhooks per second that build each backlog through a web-only instance. */
  drainFillRate: number;
  /** Adds --cpu-prof to the app process; profiles land in bench/results/profiles. */
  cpuProfile: boolean;
  databaseUrl: string | null;
  /** The build to run (`<appDist>/src/main.js`); another directory compares a patched build. */
  appDist: string;
}

export const PARTS = [
  'throughput',
  'e2e',
  'growth',
  'history',
  'inbox',
  'replies',
  'fairness',
  'drain',
  'scaleout',
] as const;
export type Part = (typeof PARTS)[number];

function int(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return Math.round(value);
}

function intList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new Error(`${name} must be a comma-separated list of positive integers`);
  }
  return values;
}

export function loadBenchConfig(): BenchConfig {
  const channels = int('BENCH_CHANNELS', 10);
  const channelTiers = intList('BENCH_CHANNEL_TIERS', [channels, 1_000, 10_000]);
  if (
    channelTiers[0] !== channels ||
    channelTiers.some((n, i) => i > 0 && n <= channelTiers[i - 1])
  ) {
    throw new Error('BENCH_CHANNEL_TIERS must start at BENCH_CHANNELS and increase');
  }
  // `npm run bench -- --only replies,drain` or BENCH_ONLY=replies,drain.
  const flag = process.argv.indexOf('--only');
  const selected = flag >= 0 ? process.argv[flag + 1] : process.env.BENCH_ONLY;
  const only = selected ? new Set(selected.split(',').map((part) => part.trim())) : null;
  for (const part of only ?? []) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new Error(`BENCH_ONLY: unknown part "${part}" (parts: ${PARTS.join(', ')})`);
    }
  }
  const generator = process.env.BENCH_RATE_GENERATOR ?? 'paced';
  if (generator !== 'paced' && generator !== 'autocannon') {
    throw new Error('BENCH_RATE_GENERATOR must be "paced" or "autocannon"');
  }
  return {
    durationSeconds: int('BENCH_DURATION_SECONDS', 10),
    warmupSeconds: int('BENCH_WARMUP_SECONDS', 3, 0),
    connections: int('BENCH_CONNECTIONS', 50),
    fixedRate: int('BENCH_FIXED_RATE', 500),
    rateGenerator: generator,
    channels,
    customers: int('BENCH_CUSTOMERS', 2_000),
    e2eMessages: int('BENCH_E2E_MESSAGES', 300),
    e2eRate: int('BENCH_E2E_RATE', 20),
    e2eTimeoutSeconds: int('BENCH_E2E_TIMEOUT_SECONDS', 30),
    channelTiers,
    settleSeconds: int('BENCH_SETTLE_SECONDS', 10),
    apiConnectBudgetSeconds: int('BENCH_API_CONNECT_BUDGET_SECONDS', 60),
    historySizes: intList('BENCH_HISTORY_SIZES', [10, 10_000]),
    historySamples: int('BENCH_HISTORY_SAMPLES', 100),
    inboxConversations: int('BENCH_INBOX_CONVERSATIONS', 100_000),
    inboxDeepPage: int('BENCH_INBOX_DEEP_PAGE', 50, 2),
    inboxSamples: int('BENCH_INBOX_SAMPLES', 300),
    only,
    modelLatencyMs: int('BENCH_MODEL_LATENCY_MS', 2_000),
    drainSizes: intList('BENCH_DRAIN_SIZES', [1_000, 20_000]),
    drainCompletedJobs: int('BENCH_DRAIN_COMPLETED_JOBS', 1_000_000, 0),
    drainFillRate: int('BENCH_DRAIN_FILL_RATE', 500),
    cpuProfile: process.env.BENCH_CPU_PROFILE === '1',
    databaseUrl: process.env.DATABASE_URL || null,
    appDist: resolve(__dirname, '..', '..', process.env.BENCH_APP_DIST || 'dist'),
  };
}

export const runs = (config: BenchConfig, part: Part): boolean =>
  config.only === null || config.only.has(part);
