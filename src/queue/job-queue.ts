/**
 * Durable jobs on the application's own PostgreSQL through pg-boss 10 (11+ needs Node 22): a job
 * is inserted in the same transaction as the row it is about, so a committed webhook always has
 * its reply job and a rolled-back one never does. Workers on every instance share the queue;
 * pg-boss hands each job to one of them (SKIP LOCKED) and retries failures with backoff.
 */
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleInit,
} from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Pool, type QueryResultRow } from 'pg';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { runWithRequestId } from '../common/logging/request-context';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DATABASE_URL } from '../database/database.tokens';
import {
  type PreparedStatement,
  queryConfig,
  takesNamedStatements,
} from '../database/prepared-statements';
import { Completion } from './completion';

export interface QueueDefinition {
  name: string;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
}

/**
 * What a job carries from the request that queued it, beside its own data: the request id (its
 * log lines and Sentry events carry it too) and when that request arrived (epoch ms).
 */
export interface JobTrace {
  requestId?: string;
  receivedAt?: number;
}

export interface JobInfo extends JobTrace {
  id: string;
  retryCount: number;
  retryLimit: number;
}

/** Jobs waiting in a queue (created or retry), and how long ago the oldest of them was queued. */
export interface QueueBacklog {
  queue: string;
  waiting: number;
  oldestWaitingSeconds: number;
}

/**
 * One pass over pg-boss's partial index of waiting jobs (job_i5: state < 'active', with
 * created_on included), for the metrics scrape; completed jobs are never read.
 */
const QUEUE_BACKLOG = `SELECT q.name AS queue, count(j.id)::int AS waiting,
    COALESCE(extract(epoch FROM now() - min(j.created_on)), 0)::float8 AS "oldestWaitingSeconds"
  FROM unnest($1::text[]) AS q(name)
  LEFT JOIN pgboss.job j ON j.name = q.name AND j.state < 'active'
  GROUP BY q.name ORDER BY q.name`;

/**
 * SQL for a data-modifying step that queues one job per row of `source` (a CTE or subquery with
 * columns `data jsonb` and `singleton_key text`) in the queue named by the parameter
 * `queueParam`: pg-boss 10.4's own job insert (plans.js insertJob) with the queue's settings, so a
 * caller can store its rows and queue their jobs in ONE autocommit statement instead of a
 * BEGIN…COMMIT transaction of four round trips. pg-boss is pinned to the version this copies;
 * test/job-queue.e2e-spec.ts compares the rows it writes with boss.send's.
 */
export function insertJobsSql(source: string, queueParam: string): string {
  return `INSERT INTO pgboss.job
      (name, data, singleton_key, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy, dead_letter)
    SELECT q.name, s.data, s.singleton_key,
      COALESCE(q.expire_seconds * interval '1s', interval '15 minutes'),
      now() + CAST(COALESCE((q.retention_minutes * 60)::text, '14 days') AS interval),
      COALESCE(q.retry_limit, 2),
      CASE WHEN COALESCE(q.retry_backoff, false) THEN GREATEST(COALESCE(q.retry_delay, 0), 1)
           ELSE COALESCE(q.retry_delay, 0) END,
      COALESCE(q.retry_backoff, false),
      q.policy,
      q.dead_letter
    FROM ${source} s JOIN pgboss.queue q ON q.name = ${queueParam}
    ON CONFLICT DO NOTHING
    RETURNING id`;
}

/**
 * The jobs of one organization (`data.organizationId`; jobs without one form a group of their
 * own) are claimed fairly against every other organization's. Both indexes are partial, so
 * completed jobs, however many, cost them nothing.
 */
const CLAIM_INDEXES = [
  `CREATE INDEX IF NOT EXISTS job_waiting_by_organization ON pgboss.job
     (name, (COALESCE(data->>'organizationId', '')), created_on, id) WHERE state < 'active'`,
  `CREATE INDEX IF NOT EXISTS job_active_by_organization ON pgboss.job
     (name, (COALESCE(data->>'organizationId', ''))) WHERE state = 'active'`,
];

/**
 * Claims up to $2 due jobs of queue $1, fairly: the organizations with jobs waiting are listed by
 * a loose index scan (one index probe each, however long their backlogs), each may have at most $3
 * jobs active across every instance, and the jobs are taken in turns (each organization's oldest
 * first, the organizations with fewest active first), so one organization's backlog of thousands
 * cannot keep another's single message waiting. What pg-boss 10.4's fetch sets on a job (active,
 * started_on, retry_count) is set the same way; SKIP LOCKED hands a job to one claimer only, and
 * a job another claimer took meanwhile no longer matches `state < 'active'` once locked. The cap
 * is read from the statement's snapshot: two instances claiming at the same instant may together
 * pass it by one batch. The chosen jobs are locked and updated one primary-key lookup each
 * (LATERAL, `= ANY (ARRAY(…))`), whatever the planner's statistics: with none (a table never
 * analyzed) it scanned every waiting job's index entry, or the whole partition, per claim.
 */
export const CLAIM_FAIRLY = `
  WITH RECURSIVE waiting(organization_id) AS (
    (SELECT COALESCE(data->>'organizationId', '') FROM pgboss.job
     WHERE name = $1 AND state < 'active'
     ORDER BY COALESCE(data->>'organizationId', '') LIMIT 1)
    UNION ALL
    SELECT (SELECT COALESCE(j.data->>'organizationId', '') FROM pgboss.job j
            WHERE j.name = $1 AND j.state < 'active'
              AND COALESCE(j.data->>'organizationId', '') > w.organization_id
            ORDER BY COALESCE(j.data->>'organizationId', '') LIMIT 1)
    FROM waiting w WHERE w.organization_id IS NOT NULL
  ),
  candidates AS (
    SELECT c.id, c.created_on,
      a.running + row_number() OVER (PARTITION BY w.organization_id ORDER BY c.created_on, c.id) AS turn
    FROM waiting w
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS running FROM pgboss.job
      WHERE name = $1 AND state = 'active'
        AND COALESCE(data->>'organizationId', '') = w.organization_id
    ) a
    CROSS JOIN LATERAL (
      SELECT j.id, j.created_on FROM pgboss.job j
      WHERE j.name = $1 AND j.state < 'active' AND j.start_after < now()
        AND COALESCE(j.data->>'organizationId', '') = w.organization_id
      ORDER BY COALESCE(j.data->>'organizationId', ''), j.created_on, j.id
      LIMIT GREATEST(0, LEAST($2::int, $3::int - a.running))
    ) c
    WHERE w.organization_id IS NOT NULL
  ),
  chosen AS (
    SELECT id FROM candidates ORDER BY turn, created_on, id LIMIT $2::int
  ),
  locked AS (
    SELECT l.id FROM chosen c CROSS JOIN LATERAL (
      SELECT j.id FROM pgboss.job j
      WHERE j.name = $1 AND j.id = c.id AND j.state < 'active' AND j.start_after < now()
      FOR UPDATE SKIP LOCKED
    ) l
  )
  UPDATE pgboss.job j SET
    state = 'active',
    started_on = now(),
    retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END
  WHERE j.name = $1 AND j.id = ANY (ARRAY(SELECT id FROM locked))
  RETURNING j.id, j.data, j.retry_count AS "retryCount", j.retry_limit AS "retryLimit"`;

/**
 * A job handed back untried: waiting again, and with started_on cleared its next claim does not
 * count a retry (pg-boss's fetch counts one only for a job that had started).
 */
const POSTPONE = `UPDATE pgboss.job
  SET state = 'created', started_on = NULL, start_after = now() + $3 * interval '1 second'
  WHERE name = $1 AND id = $2 AND state = 'active'`;

/**
 * pg-boss 10.4's complete (plans.js completeJobs, with no output) for a batch of jobs, without
 * its `RETURNING *` (every column of every row, only to be counted).
 */
const COMPLETE = `UPDATE pgboss.job SET completed_on = now(), state = 'completed', output = NULL
  WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`;

/** Longest a full pool waits for more free slots before claiming for the ones it has. */
const CLAIM_GATHER_MS = 20;

/**
 * After a claim that found fewer jobs than it had room for (the queue ran dry), the next claim
 * starts this long after it at the earliest, however often webhooks nudge: at hundreds of
 * webhooks a second a claim per nudge took one or two jobs for a whole statement (the claim is
 * the queue's most expensive statement), now it takes what arrived meanwhile. A reply waits this
 * long at most for it.
 */
const CLAIM_INTERVAL_MS = 20;

/**
 * Every claim and completion leaves a dead row version whose entries stay in the partial indexes
 * the claim walks (job_i5, job_waiting_by_organization, job_active_by_organization) until VACUUM
 * removes them: oldest first, so every claim stepped over all of them, and without autovacuum
 * (or between two of its passes, 20% of the table apart) the claim grew with the jobs done. So
 * the queue vacuums the partitions it works itself, at most every VACUUM_INTERVAL_MS and only
 * after VACUUM_AFTER_JOBS claims and completions; SKIP_LOCKED: another instance's vacuum of the
 * same partition is enough. ANALYZE with it: without autovacuum nothing else gathers the
 * statistics pg-boss's own statements are planned with.
 */
const VACUUM_INTERVAL_MS = 10_000;
const VACUUM_AFTER_JOBS = 500;

const STATEMENTS = {
  claim: { name: 'job-queue-claim-fairly', text: CLAIM_FAIRLY },
  complete: { name: 'job-queue-complete', text: COMPLETE },
  postpone: { name: 'job-queue-postpone', text: POSTPONE },
} satisfies Record<string, PreparedStatement>;

type Handler<T> = (data: T, job: JobInfo) => Promise<void>;

export interface WorkOptions {
  /** Fetch loops for the queue in this process (0: none); each claims jobs in batches. */
  fetchers: number;
  /** Jobs of the queue running at once in this process; a loop never claims more than are free. */
  maxInFlight: number;
  /** Jobs of one organization active at once, all instances together. */
  maxInFlightPerOrganization: number;
  /** Claim nothing before this time (epoch ms), e.g. while the model API asked us to wait. */
  pausedUntil?: () => number;
}

interface ClaimedJob<T> {
  id: string;
  data: T;
  retryCount: number;
  retryLimit: number;
}

/** The slots of one queue's work in this process: running jobs plus slots being claimed for. */
class Slots {
  busy = 0;
  private readonly waiters = new Set<() => void>();
  constructor(readonly size: number) {}
  get free(): number {
    return this.size - this.busy;
  }
  release(count: number): void {
    this.busy -= count;
    for (const wake of [...this.waiters]) wake();
  }
  /** Resolves when a slot is released, after `ms` at most. */
  waitForRelease(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const stop = this.onRelease(() => {
        clearTimeout(timer);
        stop();
        resolve();
      });
      const timer = setTimeout(() => {
        stop();
        resolve();
      }, ms);
    });
  }
  /** Resolves once `count` slots are free, after `ms` at most. */
  waitForFree(count: number, ms: number): Promise<void> {
    if (this.free >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop();
        resolve();
      };
      const stop = this.onRelease(() => {
        if (this.free >= count) done();
      });
      const timer = setTimeout(done, ms);
    });
  }
  /** Calls `wake` at every release until the returned function is called. */
  onRelease(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}

@Injectable()
export class JobQueue implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;
  private readonly sleepers = new Map<string, Set<() => void>>();
  private readonly defined = new Set<string>();
  /** Queues nudged while no loop was asleep: the next idle() returns at once. */
  private readonly nudged = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private started: Promise<void> | null = null;
  private ready = false;
  /** Jobs claimed since start, per queue: what the backlog tests read to see nothing is hoarded. */
  private readonly claimedCounts = new Map<string, number>();
  /**
   * The queue's own statements (claim, complete, postpone, backlog), named prepared statements on
   * PostgreSQL: parsed and planned once per connection (the claim's plan cost about as much as
   * its execution), beside pg-boss's pool rather than queued behind its maintenance.
   */
  private readonly pool: Pool;
  /** False on the embedded PGlite, whose connections share one session (names would clash). */
  private named = false;
  /** Completions waiting for the statement in flight to finish, per queue (one statement each). */
  private readonly completions = new Map<string, Completion>();
  private jobsSinceVacuum = 0;
  private vacuumTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(DATABASE_URL) databaseUrl: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pino: PinoLogger,
  ) {
    this.boss = new PgBoss({
      connectionString: databaseUrl,
      schema: 'pgboss',
      max: 4,
      // Schedules (the channel health sweep) are pg-boss's: one job per cron tick across all
      // instances. Maintenance (expiry, archiving) stays on, often enough that a job of a killed
      // process is retried soon after it expires.
      schedule: true,
      maintenanceIntervalSeconds: Math.max(
        1,
        Math.min(120, Math.floor(config.replyJobExpireSeconds / 2)),
      ),
      // A finished job records nothing the messages table does not: completed and failed jobs
      // leave the job table after an hour (pg-boss's default is 12 h), so the table a claim works
      // on stays small; the archive keeps them a week for inspection.
      archiveCompletedAfterSeconds: 3_600,
      deleteAfterDays: 7,
    });
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'pg-boss error'));
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: 4,
      application_name: 'job-queue',
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'job queue pool error'));
  }

  private async query<T extends QueryResultRow>(
    statement: PreparedStatement,
    values: unknown[],
  ): Promise<T[]> {
    const { rows } = await this.pool.query<T>(queryConfig(statement, values, this.named));
    return rows;
  }

  onModuleInit(): Promise<void> {
    this.started ??= this.boss
      .start()
      .then(() => this.createClaimIndexes())
      .then(async () => {
        this.named = await takesNamedStatements(async (text) => (await this.pool.query(text)).rows);
        this.ready = true;
      });
    return this.started;
  }

  /** Started, and not stopping: what readiness reports as "job queue". */
  get isRunning(): boolean {
    return this.ready && !this.stopping;
  }

  /** Jobs of `name` this process has claimed since it started. */
  claimedCount(name: string): number {
    return this.claimedCounts.get(name) ?? 0;
  }

  /** On pg-boss's table, which pg-boss creates at its start (after our migrations ran). */
  private async createClaimIndexes(): Promise<void> {
    for (const sql of CLAIM_INDEXES) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.boss.getDb().executeSql(sql, []);
          break;
        } catch (error) {
          // Instances starting together: another one is creating the same index.
          const code = (error as { code?: string }).code;
          const race = code === '40P01' || code === '23505' || code === '42P07';
          if (!race || attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
    }
  }

  /**
   * Creates the queue, or brings an existing one's settings up to date (createQueue alone leaves
   * an existing queue as it was, so a changed retry or expiry setting would never apply).
   * Instances starting together on a fresh database can deadlock inside createQueue; it is
   * idempotent, so try again.
   */
  async define(queue: QueueDefinition): Promise<void> {
    await this.onModuleInit();
    const options = {
      name: queue.name,
      retryLimit: queue.retryLimit,
      retryDelay: queue.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: queue.expireInSeconds,
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.boss.createQueue(queue.name, options);
        await this.boss.updateQueue(queue.name, options);
        this.defined.add(queue.name);
        return;
      } catch (error) {
        const deadlock = (error as { code?: string }).code === '40P01';
        if (!deadlock || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** A job in `name` on every tick of `cron`, one per tick whichever instances run (pg-boss schedule). */
  async schedule(name: string, cron: string): Promise<void> {
    await this.onModuleInit();
    await this.boss.schedule(name, cron);
  }

  /** Removes the schedule of `name`, if there is one. */
  async unschedule(name: string): Promise<void> {
    await this.onModuleInit();
    await this.boss.unschedule(name);
  }

  /** Enqueues inside the caller's transaction: the job exists exactly when the transaction commits. */
  async sendInTransaction(
    manager: EntityManager,
    name: string,
    data: object,
    singletonKey?: string,
  ): Promise<void> {
    await this.boss.send(name, data, {
      singletonKey,
      db: { executeSql: async (text, values) => ({ rows: await manager.query(text, values) }) },
    });
  }

  /** The backlog of every queue this process defined. */
  async backlog(): Promise<QueueBacklog[]> {
    if (!this.ready || this.defined.size === 0) return [];
    return this.query<QueueBacklog>({ name: 'job-queue-backlog', text: QUEUE_BACKLOG }, [
      [...this.defined],
    ]);
  }

  /** Wakes this process's idle workers at once instead of waiting for their next poll. */
  nudge(name: string): void {
    const sleepers = this.sleepers.get(name);
    if (!sleepers?.size) {
      this.nudged.add(name);
      return;
    }
    for (const wake of sleepers) wake();
  }

  /**
   * Runs a queue's jobs in this process: `fetchers` loops claim jobs in batches, never more than
   * the free slots of `maxInFlight` (so a backlog of any size stays in the database), and start
   * each at once; a finished job frees its slot and wakes the loops. Each job's outcome is
   * recorded here (settle), never by pg-boss: pg-boss 10's work() did not await its
   * complete()/fail(), which during a database outage rejected unhandled and could leave a job
   * active. A job claimed just as the connection dropped stays active until it expires
   * (REPLY_JOB_EXPIRE_SECONDS), then is retried.
   */
  async work<T extends object>(
    name: string,
    options: WorkOptions,
    handler: Handler<T>,
  ): Promise<void> {
    if (options.fetchers <= 0 || options.maxInFlight <= 0) return;
    await this.onModuleInit();
    const slots = new Slots(options.maxInFlight);
    // Vacuum only where jobs are claimed and completed, and only on PostgreSQL (PGlite is the
    // embedded development database, in this process's own thread).
    if (this.named && !this.vacuumTimer) {
      this.vacuumTimer = setInterval(() => void this.vacuum(), VACUUM_INTERVAL_MS);
      this.vacuumTimer.unref();
    }
    for (let i = 0; i < options.fetchers; i += 1) {
      this.loops.push(this.fetchLoop(name, options, slots, handler));
    }
  }

  private async fetchLoop<T extends object>(
    name: string,
    options: WorkOptions,
    slots: Slots,
    handler: Handler<T>,
  ): Promise<void> {
    const pollMs = this.config.queuePollSeconds * 1_000;
    let lastDryClaim = 0;
    while (!this.stopping) {
      const pausedMs = (options.pausedUntil?.() ?? 0) - Date.now();
      if (pausedMs > 0) {
        await this.idle(name, Math.min(pausedMs, pollMs), slots, false);
        continue;
      }
      const wanted = slots.free;
      if (wanted <= 0) {
        await slots.waitForRelease(pollMs);
        // Jobs end one by one: gather a few free slots (for a moment at most) so that a busy
        // pool claims in batches, not one statement per job.
        await slots.waitForFree(Math.max(1, Math.floor(slots.size / 8)), CLAIM_GATHER_MS);
        continue;
      }
      // The queue was dry a moment ago: let what arrives meanwhile be claimed in one statement.
      const wait = lastDryClaim + CLAIM_INTERVAL_MS - Date.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      // Reserved before the claim, so several loops sharing the slots never claim more than free.
      slots.busy += wanted;
      let jobs: ClaimedJob<T>[] = [];
      try {
        jobs = await this.claim<T>(name, wanted, options.maxInFlightPerOrganization);
      } catch (error) {
        this.logger.warn({ err: error, queue: name }, 'could not fetch a job');
      }
      slots.release(wanted - jobs.length);
      this.claimedCounts.set(name, this.claimedCount(name) + jobs.length);
      this.jobsSinceVacuum += jobs.length;
      for (const job of jobs) {
        const run = this.run(name, job, handler).finally(() => {
          this.running.delete(run);
          slots.release(1);
        });
        this.running.add(run);
      }
      // Fewer than asked: the queue is dry, or its organizations are at their cap until one of
      // their jobs ends (here or, seen at the next poll, on another instance).
      if (jobs.length < wanted) {
        lastDryClaim = Date.now();
        await this.idle(name, pollMs, slots, true);
      }
    }
  }

  private claim<T>(name: string, limit: number, perOrganization: number) {
    return this.query<ClaimedJob<T> & QueryResultRow>(STATEMENTS.claim, [
      name,
      limit,
      perOrganization,
    ]);
  }

  /**
   * Completes a job: jobs finishing while another completion of their queue is in flight are
   * completed together by the next statement (no waiting added: a completion starts at once when
   * none is in flight).
   */
  private complete(name: string, id: string): Promise<void> {
    let completion = this.completions.get(name);
    if (!completion) {
      completion = new Completion((ids) => this.query(STATEMENTS.complete, [name, ids]));
      this.completions.set(name, completion);
    }
    return completion.add(id);
  }

  /** VACUUM the partitions of the queues this process works, once enough jobs moved (see VACUUM_AFTER_JOBS). */
  private async vacuum(): Promise<void> {
    if (this.stopping || this.jobsSinceVacuum < VACUUM_AFTER_JOBS) return;
    this.jobsSinceVacuum = 0;
    try {
      const partitions = await this.query<{ partition: string }>(
        {
          name: 'job-queue-partitions',
          text: 'SELECT partition_name AS partition FROM pgboss.queue WHERE name = ANY($1::text[])',
        },
        [[...this.defined]],
      );
      for (const { partition } of partitions) {
        await this.pool.query(
          `VACUUM (ANALYZE, SKIP_LOCKED) pgboss."${partition.replaceAll('"', '""')}"`,
        );
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not vacuum the job table');
    }
  }

  private async run<T>(name: string, job: ClaimedJob<T>, handler: Handler<T>): Promise<void> {
    let failure: unknown = null;
    const { requestId, receivedAt } = (job.data ?? {}) as JobTrace;
    try {
      await runWithRequestId(this.pino, requestId, { job: { queue: name, id: job.id } }, () =>
        handler(job.data, {
          id: job.id,
          retryCount: job.retryCount,
          retryLimit: job.retryLimit,
          requestId,
          receivedAt,
        }),
      );
    } catch (error) {
      failure = error;
    }
    await this.settle(name, job.id, failure);
  }

  /** Sleeps up to `ms`, less when nudged, stopping or (wakeOnRelease) a slot is released. */
  private idle(name: string, ms: number, slots: Slots, wakeOnRelease: boolean): Promise<void> {
    if (this.nudged.delete(name) || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const sleepers = this.sleepers.get(name) ?? new Set<() => void>();
      this.sleepers.set(name, sleepers);
      const stopListening = wakeOnRelease ? slots.onRelease(() => wake()) : () => undefined;
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        stopListening();
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  /**
   * Records a job's outcome, awaited and retried while the database is away (for a minute), so a
   * database blip does not leave the job 'active' until it expires. A failure carrying
   * retryAfterSeconds (Twilio's or the model API's Retry-After) is not retried sooner than that;
   * one carrying postponeSeconds (nothing was attempted) goes back to the queue for that long
   * without counting as a try.
   */
  private async settle(name: string, id: string, failure: unknown): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const postpone = (failure as { postponeSeconds?: number } | null)?.postponeSeconds;
        if (failure === null) {
          await this.complete(name, id);
        } else if (postpone !== undefined) {
          await this.query(STATEMENTS.postpone, [name, id, postpone]);
        } else {
          const message = failure instanceof Error ? failure.message : String(failure);
          await this.boss.fail(name, id, { message });
          const wait = (failure as { retryAfterSeconds?: number | null }).retryAfterSeconds;
          if (wait) {
            await this.boss.getDb().executeSql(
              `UPDATE pgboss.job SET start_after = GREATEST(start_after, now() + $3 * interval '1 second')
               WHERE name = $1 AND id = $2 AND state = 'retry'`,
              [name, id, wait],
            );
          }
        }
        this.jobsSinceVacuum += 1;
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          this.logger.error({ err: error, jobId: id }, 'could not record a job outcome');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /**
   * Stops taking jobs, lets running ones finish (bounded) and closes pg-boss's pool. Before Nest's
   * shutdown hooks, where TypeORM closes its pool: a running reply must still be able to store
   * Twilio's SID.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    for (const sleepers of this.sleepers.values()) for (const wake of [...sleepers]) wake();
    await this.started.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(this.loops)
        .then(() => Promise.all(this.running))
        .then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 7_000))),
    ]);
    clearTimeout(timer);
    if (!drained) this.logger.warn('jobs still running at shutdown; they are retried after expiry');
    if (this.vacuumTimer) clearInterval(this.vacuumTimer);
    await this.boss.stop({ graceful: true, wait: true, timeout: 1_000 }).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'pg-boss did not stop cleanly');
    });
    await this.pool.end().catch(() => undefined);
  }
}
