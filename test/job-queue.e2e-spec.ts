/**
 * insertJobsSql copies pg-boss 10's own job insert so the webhook can store a message and queue
 * its reply in one statement. This keeps the copy honest: a job it writes must equal, column for
 * column, the job pg-boss's send() writes for the same queue, and a worker must run it.
 */
import { DataSource } from 'typeorm';
import { insertJobsSql, JobQueue } from '../src/queue/job-queue';
import { eventually } from './support/sms-fixtures';
import { startTestApp, TestApp } from './support/test-app';

const ONE_AT_A_TIME = { fetchers: 1, maxInFlight: 1, maxInFlightPerOrganization: 1 };
const QUEUE = {
  name: 'job-queue-copy-check',
  // Not pg-boss's defaults, so each setting has to flow from the queue into the job.
  retryLimit: 7,
  retryDelaySeconds: 3,
  expireInSeconds: 33,
};

const COLUMNS = `name, data, priority, state, retry_limit, retry_count, retry_delay, retry_backoff,
  start_after - created_on AS start_delay, singleton_key, singleton_on, expire_in,
  date_trunc('minute', keep_until - created_on) AS keep_for, dead_letter, policy`;

describe('JobQueue: jobs queued in the same statement as their rows', () => {
  let t: TestApp;
  let db: DataSource;
  let queue: JobQueue;

  beforeAll(async () => {
    t = await startTestApp({ REPLY_WORKER_CONCURRENCY: '0' });
    db = t.running.app.get(DataSource);
    queue = t.running.app.get(JobQueue);
    await queue.define(QUEUE);
  });

  afterAll(() => t?.close());

  it("writes the same job as pg-boss's send()", async () => {
    await db.transaction((manager) =>
      queue.sendInTransaction(manager, QUEUE.name, { n: 1 }, 'by-send'),
    );
    await db.query(
      `WITH source AS (SELECT '{"n": 1}'::jsonb AS data, 'by-sql' AS singleton_key)
       ${insertJobsSql('source', '$1')}`,
      [QUEUE.name],
    );
    const [bySend, bySql] = await Promise.all(
      ['by-send', 'by-sql'].map(async (key) => {
        const [row] = await db.query(
          `SELECT ${COLUMNS} FROM pgboss.job WHERE name = $1 AND singleton_key = $2`,
          [QUEUE.name, key],
        );
        return { ...row, singleton_key: undefined };
      }),
    );
    expect(bySql).toEqual(bySend);
    expect(bySql).toMatchObject({ retry_limit: 7, retry_delay: 3, state: 'created' });
  });

  it('queues nothing for an empty source and nothing in a queue that does not exist', async () => {
    const count = async () =>
      Number((await db.query(`SELECT count(*)::int AS n FROM pgboss.job`))[0].n);
    const before = await count();
    await db.query(
      `WITH source AS (SELECT '{}'::jsonb AS data, 'none' AS singleton_key WHERE false)
       ${insertJobsSql('source', '$1')}`,
      [QUEUE.name],
    );
    await db.query(
      `WITH source AS (SELECT '{}'::jsonb AS data, 'none' AS singleton_key)
       ${insertJobsSql('source', '$1')}`,
      ['no-such-queue'],
    );
    expect(await count()).toBe(before);
  });

  it('a job it wrote is fetched and completed by a worker', async () => {
    const seen: unknown[] = [];
    await db.query(
      `WITH source AS (SELECT '{"n": 2}'::jsonb AS data, 'worked' AS singleton_key)
       ${insertJobsSql('source', '$1')}`,
      [QUEUE.name],
    );
    await queue.work<{ n: number }>(QUEUE.name, ONE_AT_A_TIME, async (data) => {
      seen.push(data);
    });
    queue.nudge(QUEUE.name);
    await eventually(async () => {
      const [job] = await db.query(
        `SELECT state FROM pgboss.job WHERE name = $1 AND singleton_key = 'worked'`,
        [QUEUE.name],
      );
      return job?.state === 'completed';
    }, 10_000);
    expect(seen).toContainEqual({ n: 2 });
  });
});

describe('JobQueue: a job postponed untried', () => {
  let t: TestApp;
  let queue: JobQueue;
  const POSTPONED = { ...QUEUE, name: 'job-queue-postpone-check' };

  beforeAll(async () => {
    t = await startTestApp({ REPLY_WORKER_CONCURRENCY: '0', QUEUE_POLL_SECONDS: '1' });
    queue = t.running.app.get(JobQueue);
    await queue.define(POSTPONED);
  });

  afterAll(() => t?.close());

  it('goes back to the queue for that long and runs again without counting a retry', async () => {
    const runs: { retryCount: number; at: number }[] = [];
    await queue.work<{ n: number }>(POSTPONED.name, ONE_AT_A_TIME, async (_data, job) => {
      runs.push({ retryCount: job.retryCount, at: Date.now() });
      if (runs.length === 1) throw Object.assign(new Error('not now'), { postponeSeconds: 2 });
    });
    await t.running.app.get(DataSource).query(
      `WITH source AS (SELECT '{"n": 3}'::jsonb AS data, 'postponed' AS singleton_key)
         ${insertJobsSql('source', '$1')}`,
      [POSTPONED.name],
    );
    queue.nudge(POSTPONED.name);
    const job = async () =>
      (
        await t.running.app
          .get(DataSource)
          .query(
            `SELECT state, retry_count, started_on FROM pgboss.job WHERE name = $1 AND singleton_key = 'postponed'`,
            [POSTPONED.name],
          )
      )[0] as { state: string; retry_count: number; started_on: Date | null };
    await eventually(async () => runs.length === 1 && (await job()).state === 'created');
    expect(await job()).toMatchObject({ retry_count: 0, started_on: null });
    await eventually(async () => (await job()).state === 'completed', 15_000);
    expect(runs.map((run) => run.retryCount)).toEqual([0, 0]);
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(2_000 - 50);
  });
});

// The embedded PGlite runs in this process's thread and is never vacuumed by the queue.
const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;

onPostgres(
  'JobQueue: the partition of a queue it works is vacuumed as jobs move (PostgreSQL)',
  () => {
    let t: TestApp;
    let db: DataSource;
    let queue: JobQueue;
    const WORKED = { ...QUEUE, name: 'job-queue-vacuum-check' };

    beforeAll(async () => {
      t = await startTestApp({ REPLY_WORKER_CONCURRENCY: '0' });
      db = t.running.app.get(DataSource);
      queue = t.running.app.get(JobQueue);
      await queue.define(WORKED);
    });

    afterAll(() => t?.close());

    it('after 500 claims and completions, within one vacuum interval: dead versions removed, statistics gathered', async () => {
      const [{ partition }] = await db.query(
        `SELECT partition_name AS partition FROM pgboss.queue WHERE name = $1`,
        [WORKED.name],
      );
      const counts = async () =>
        (
          await db.query(
            `SELECT vacuum_count + autovacuum_count AS vacuums, analyze_count + autoanalyze_count AS analyzes
           FROM pg_stat_user_tables WHERE schemaname = 'pgboss' AND relname = $1`,
            [partition],
          )
        )[0] as { vacuums: string; analyzes: string };
      const before = await counts();
      await db.query(
        `WITH source AS (SELECT jsonb_build_object('n', n) AS data, 'v' || n AS singleton_key
                       FROM generate_series(1, 600) AS n)
       ${insertJobsSql('source', '$1')}`,
        [WORKED.name],
      );
      await queue.work(
        WORKED.name,
        { fetchers: 1, maxInFlight: 100, maxInFlightPerOrganization: 1_000 },
        async () => undefined,
      );
      queue.nudge(WORKED.name);
      await eventually(async () => {
        const [{ done }] = await db.query(
          `SELECT count(*)::int AS done FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
          [WORKED.name],
        );
        return done === 600;
      }, 30_000);
      await eventually(async () => {
        const now = await counts();
        return Number(now.vacuums) > Number(before.vacuums) &&
          Number(now.analyzes) > Number(before.analyzes)
          ? now
          : null;
      }, 25_000);
    });
  },
);
