/**
 * Owns `idempotency_keys`: the first result of a write sent with an Idempotency-Key, per
 * organization and key, for 24 hours, shared by every instance. A key is claimed by one atomic
 * upsert, so of two concurrent requests with one key, on any instances, exactly one runs.
 */
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';

/** How long a result is kept and replayed. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
/**
 * How long a claim holds while its request runs: past it, the instance that claimed it is taken
 * to have died and the key may be claimed again. Longer than any write takes (a connect's Twilio
 * probe is bounded by TWILIO_TIMEOUT_MS per call).
 */
export const IDEMPOTENCY_CLAIM_SECONDS = 120;

/**
 * Claims a key: inserts it as running, or takes over a row that expired (older than the TTL) or
 * whose claim lapsed; returns no row when another request holds or completed the key.
 */
const CLAIM_KEY: PreparedStatement = {
  name: 'idempotency-claim-key',
  text: `INSERT INTO idempotency_keys AS k
      (organization_id, key, request_hash, claim_id, state, created_at, locked_until)
    SELECT $1, $2, $3, $4, 'running', clock.at, clock.at + make_interval(secs => $5::integer)
    FROM (SELECT clock_timestamp() AS at) clock
    ON CONFLICT (organization_id, key) DO UPDATE SET
      request_hash = EXCLUDED.request_hash, claim_id = EXCLUDED.claim_id, state = 'running',
      response_status = NULL, response_body = NULL,
      created_at = EXCLUDED.created_at, locked_until = EXCLUDED.locked_until
    WHERE k.created_at < EXCLUDED.created_at - make_interval(hours => $6::integer)
      OR (k.state = 'running' AND k.locked_until < EXCLUDED.created_at)
    RETURNING k.claim_id`,
};

/** What a key holds when it could not be claimed. */
const READ_KEY: PreparedStatement = {
  name: 'idempotency-read-key',
  text: `SELECT request_hash AS "requestHash", state, response_status AS "status",
      response_body AS "body"
    FROM idempotency_keys WHERE organization_id = $1 AND key = $2`,
};

/** Records the result of the claim that ran (a lapsed claim taken over by another is not ours). */
const COMPLETE_KEY: PreparedStatement = {
  name: 'idempotency-complete-key',
  text: `UPDATE idempotency_keys SET state = 'done', response_status = $4, response_body = $5::json
    WHERE organization_id = $1 AND key = $2 AND claim_id = $3`,
};

/** Gives the key back: the request did not complete, a retry with it runs again. */
const RELEASE_KEY: PreparedStatement = {
  name: 'idempotency-release-key',
  text: `DELETE FROM idempotency_keys WHERE organization_id = $1 AND key = $2 AND claim_id = $3`,
};

/** Expired keys, a bounded batch at a time so one request never deletes a backlog. */
const PRUNE_EXPIRED: PreparedStatement = {
  name: 'idempotency-prune-expired',
  text: `DELETE FROM idempotency_keys WHERE ctid IN (
      SELECT ctid FROM idempotency_keys
      WHERE created_at < clock_timestamp() - make_interval(hours => $1::integer) LIMIT 1000)`,
};

const PRUNE_EVERY_MS = 10 * 60_000;

export type IdempotencyLookup =
  | { outcome: 'claimed'; claimId: string }
  /** requestHash is null when the holder released the key while we looked. */
  | { outcome: 'in-progress'; requestHash: string | null }
  | { outcome: 'done'; requestHash: string; status: number; body: unknown };

@Injectable()
export class IdempotencyKeyStore {
  private prunedAt = 0;

  constructor(private readonly statements: PreparedStatements) {}

  /** Claims `key` for a request with `requestHash`, or says what the key already holds. */
  async claim(
    organizationId: string,
    key: string,
    requestHash: string,
  ): Promise<IdempotencyLookup> {
    await this.pruneNowAndThen();
    // A key released between our claim and our read is claimed on the next turn.
    for (let attempt = 0; ; attempt += 1) {
      const claimId = randomUUID();
      const claimed = await this.statements.query(CLAIM_KEY, [
        organizationId,
        key,
        requestHash,
        claimId,
        IDEMPOTENCY_CLAIM_SECONDS,
        IDEMPOTENCY_KEY_TTL_HOURS,
      ]);
      if (claimed.length) return { outcome: 'claimed', claimId };
      const [row] = await this.statements.query<{
        requestHash: string;
        state: 'running' | 'done';
        status: number | null;
        body: unknown;
      }>(READ_KEY, [organizationId, key]);
      if (row?.state === 'done')
        return {
          outcome: 'done',
          requestHash: row.requestHash,
          status: row.status as number,
          body: row.body,
        };
      if (row || attempt > 0)
        return { outcome: 'in-progress', requestHash: row?.requestHash ?? null };
    }
  }

  async complete(
    organizationId: string,
    key: string,
    claimId: string,
    status: number,
    body: unknown,
  ): Promise<void> {
    await this.statements.query(COMPLETE_KEY, [
      organizationId,
      key,
      claimId,
      status,
      JSON.stringify(body ?? null),
    ]);
  }

  async release(organizationId: string, key: string, claimId: string): Promise<void> {
    await this.statements.query(RELEASE_KEY, [organizationId, key, claimId]);
  }

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    await this.statements.query(PRUNE_EXPIRED, [IDEMPOTENCY_KEY_TTL_HOURS]);
  }
}
