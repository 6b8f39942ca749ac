/** The shape of bench/results/<timestamp>.json. */
import type { Settled } from './app';
import type { BenchConfig } from './config';
import type { LatencyStats, LoadResult } from './load';
import type { ModelSpeedResults } from './model-speed';
import type { TargetCheck } from './report';
import type { ScaleOutRun } from './scale-out';

/** appWebOnly: the app with REPLY_WORKER_CONCURRENCY=0 (no reply work in the process). */
export type ServerName = 'app' | 'appWebOnly' | 'quickstart' | 'floor';

export interface WebhookRuns {
  saturation: LoadResult;
  fixedRate: LoadResult;
  /** The app only: how its reply queue was brought back to rest after each run. */
  settled?: { saturation: Settled; fixedRate: Settled };
  peakRssMb?: number | null;
}

export interface EndToEndRun {
  messages: number;
  rate: number;
  /** The webhooks' acknowledgements. */
  ack: LoadResult;
  /** Webhook sent → first Messages.create for that customer, of the answered ones. */
  endToEnd: LatencyStats;
  answered: number;
  /** No reply at the end of the wait and no reply job left: never going to be answered. */
  lost: number;
  /** No reply at the end of the wait, but the reply job is still queued or running. */
  late: number;
  answeredTwice: number;
  waitedSeconds: number;
}

export interface GrowthTier {
  channels: number;
  /** How the channels beyond the previous tier were created. */
  setup: { api: number; sql: number; apiSeconds: number; sqlSeconds: number };
  result: LoadResult;
  settled: Settled;
}

export interface HistoryRun {
  earlierMessages: number;
  ack: LatencyStats;
  endToEnd: LatencyStats;
  lost: number;
}

export interface InboxRun {
  conversations: number;
  insertSeconds: number;
  deepPage: number;
  firstPage: LoadResult;
  deep: LoadResult;
}

export interface Results {
  startedAt: string;
  finishedAt?: string;
  wallSeconds?: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    platform: string;
    loadAverageAtStart: number[];
  };
  database: {
    kind: 'embedded' | 'postgres';
    label: string;
    version: string;
    floor: string;
    /** One single-row INSERT commit at a time, through the bench's own connection. */
    commit?: LatencyStats;
  };
  /** Where the measured build came from (src/ changes fast: compare runs of the same build). */
  build: { commit: string | null; uncommittedChanges: boolean | null };
  config: Omit<BenchConfig, 'only' | 'databaseUrl'> & { only: string[] | null };
  webhooks: Partial<Record<ServerName, WebhookRuns>>;
  endToEnd?: EndToEndRun;
  /** Two web-only instances on one database (BENCH_ONLY part scaleout). */
  scaleOut?: ScaleOutRun;
  /** Replies at the model's speed: bursts, fairness, backlog drains (issue #13). */
  modelSpeed?: ModelSpeedResults;
  growth: { channels: GrowthTier[]; history: HistoryRun[]; inbox?: InboxRun };
  appPeakRssMb: number | null;
  rssTimeline: { phase: string; currentMb: number | null; peakMb: number | null }[];
  targets: TargetCheck[];
  notes: string[];
}
