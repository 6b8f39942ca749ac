/**
 * @nestjs/throttler storage in PostgreSQL, so a budget is one budget however many instances
 * serve it: one atomic upsert per request on a row per key (the two fixed-window counts of a
 * sliding window, see sliding-window.ts), timed by the database's clock so instances whose clocks
 * differ still agree. PostgreSQL rather than Redis: it is already there, so nothing new to run,
 * and only the dashboard API is limited this way, whose traffic is small. The row lock makes
 * concurrent requests of one key, on any instance, take their turns.
 */
import type { ThrottlerStorage } from '@nestjs/throttler';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';
import { estimate, msUntilRoom, WindowCounts } from './sliding-window';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Counts a request when it fits under the limit ($3) in the sliding window of $2 ms, and says
 * whether it did: the window rolls over (current → previous) on the first request after it ends.
 * A refused request is not counted, so a key that keeps trying still gets its whole budget.
 */
const COUNT_REQUEST: PreparedStatement = {
  name: 'rate-limit-count-request',
  text: `INSERT INTO rate_limit_windows AS w
      (key, window_index, current_hits, previous_hits, allowed, updated_at)
    SELECT $1, floor(extract(epoch FROM clock.at) * 1000 / $2::bigint)::bigint, 1, 0, true, clock.at
    FROM (SELECT clock_timestamp() AS at) clock
    ON CONFLICT (key) DO UPDATE SET
      (window_index, previous_hits, current_hits, allowed, updated_at) = (
        SELECT idx, previous, current + CASE WHEN fits THEN 1 ELSE 0 END, fits, at
        FROM (
          SELECT idx, previous, current, at,
            previous * (1 - (extract(epoch FROM at) * 1000 - idx * $2::bigint) / $2::bigint)
              + current + 1 <= $3::integer AS fits
          FROM (
            SELECT EXCLUDED.window_index AS idx, EXCLUDED.updated_at AS at,
              CASE EXCLUDED.window_index - w.window_index
                WHEN 0 THEN w.previous_hits WHEN 1 THEN w.current_hits ELSE 0 END AS previous,
              CASE WHEN EXCLUDED.window_index = w.window_index THEN w.current_hits ELSE 0 END
                AS current
          ) rolled
        ) decided
      )
    RETURNING previous_hits AS previous, current_hits AS current, allowed,
      (extract(epoch FROM updated_at) * 1000 - window_index * $2::bigint)::float8 AS "elapsedMs"`,
};

export class PostgresThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly statements: PreparedStatements) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const [row] = await this.statements.query<{
      previous: number;
      current: number;
      allowed: boolean;
      elapsedMs: number;
    }>(COUNT_REQUEST, [`${throttlerName}:${key}`, ttl, limit]);
    const counts: WindowCounts = {
      previous: row.previous,
      current: row.current,
      elapsedMs: row.elapsedMs,
      windowMs: ttl,
    };
    const timeToExpire = Math.max(1, Math.ceil((ttl - counts.elapsedMs) / 1000));
    return {
      totalHits: Math.ceil(estimate(counts)) + (row.allowed ? 0 : 1),
      timeToExpire,
      isBlocked: !row.allowed,
      timeToBlockExpire: row.allowed
        ? 0
        : Math.max(1, Math.ceil(msUntilRoom(counts, limit) / 1000)),
    };
  }
}
