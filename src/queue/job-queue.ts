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
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { runWithRequestId } from '../common/logging/request-context';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DATABASE_URL } from '../database/database.tokens';

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

type Handler<T> = (data: T, job: JobInfo) => Promise<void>;

@Injectable()
export class JobQueue implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;
  private readonly sleepers = new Map<string, Set<() => void>>();
  private readonly defined = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private started: Promise<void> | null = null;
  private running = false;

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
    });
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'pg-boss error'));
  }

  onModuleInit(): Promise<void> {
    this.started ??= this.boss.start().then(() => {
      this.running = true;
    });
    return this.started;
  }

  /** Started, and not stopping: what readiness reports as "job queue". */
  get isRunning(): boolean {
    return this.running && !this.stopping;
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
    if (!this.running || this.defined.size === 0) return [];
    return (await this.boss.getDb().executeSql(QUEUE_BACKLOG, [[...this.defined]])).rows;
  }

  /** Wakes this process's idle workers at once instead of waiting for their next poll. */
  nudge(name: string): void {
    for (const wake of this.sleepers.get(name) ?? []) wake();
  }

  /**
   * Runs `concurrency` workers for a queue. Each one fetches a job, runs it and records the
   * outcome itself (settle), so pg-boss never issues a completion of its own: pg-boss 10's
   * work() does not await its complete()/fail(), which during a database outage rejected
   * unhandled and could leave a job active. A job fetched just as the connection dropped stays
   * active until it expires (REPLY_JOB_EXPIRE_SECONDS), then is retried.
   */
  async work<T extends object>(
    name: string,
    concurrency: number,
    handler: Handler<T>,
  ): Promise<void> {
    if (concurrency <= 0) return;
    await this.onModuleInit();
    for (let i = 0; i < concurrency; i += 1) {
      this.loops.push(this.workLoop(name, handler));
    }
  }

  private async workLoop<T extends object>(name: string, handler: Handler<T>): Promise<void> {
    while (!this.stopping) {
      let job: PgBoss.JobWithMetadata<T> | undefined;
      try {
        [job] = await this.boss.fetch<T>(name, { batchSize: 1, includeMetadata: true });
      } catch (error) {
        this.logger.warn({ err: error, queue: name }, 'could not fetch a job');
      }
      if (!job) {
        await this.idle(name);
        continue;
      }
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
  }

  /** Sleeps one poll interval, or less when nudged or stopping. */
  private idle(name: string): Promise<void> {
    return new Promise((resolve) => {
      const sleepers = this.sleepers.get(name) ?? new Set<() => void>();
      this.sleepers.set(name, sleepers);
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.config.queuePollSeconds * 1_000);
      sleepers.add(wake);
    });
  }

  /**
   * Records a job's outcome, awaited and retried while the database is away (for a minute), so a
   * database blip does not leave the job 'active' until it expires. A failure carrying
   * retryAfterSeconds (Twilio's Retry-After) is not retried sooner than that.
   */
  private async settle(name: string, id: string, failure: unknown): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if (failure === null) {
          await this.boss.complete(name, id);
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
      Promise.all(this.loops).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 7_000))),
    ]);
    clearTimeout(timer);
    if (!drained) this.logger.warn('jobs still running at shutdown; they are retried after expiry');
    await this.boss.stop({ graceful: true, wait: true, timeout: 1_000 }).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'pg-boss did not stop cleanly');
    });
  }
}
