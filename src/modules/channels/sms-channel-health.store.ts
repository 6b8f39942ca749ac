/**
 * Every statement on the health columns of sms_channels: what the last check found, who may check
 * next (one instance per channel per interval), what was last reported, and which channels the
 * sweep checks next.
 */
import { Injectable } from '@nestjs/common';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';
import type {
  CredentialsHealth,
  InboundHealth,
  NumberHealth,
  SmsChannel,
} from './sms-channel.entity';

export interface HealthFindings {
  credentials: CredentialsHealth;
  number: NumberHealth;
  inbound: InboundHealth;
  inboundUrl: string | null;
}

export interface StoredHealth extends HealthFindings {
  checkedAt: Date | null;
}

/** The last check as the row holds it. */
export const storedHealthOf = (
  channel: Pick<
    SmsChannel,
    'healthCheckedAt' | 'healthCredentials' | 'healthNumber' | 'healthInbound' | 'healthInboundUrl'
  >,
): StoredHealth => ({
  checkedAt: channel.healthCheckedAt,
  credentials: channel.healthCredentials,
  number: channel.healthNumber,
  inbound: channel.healthInbound,
  inboundUrl: channel.healthInboundUrl,
});

const HEALTH_COLUMNS = `health_checked_at AS "checkedAt", health_credentials AS credentials,
  health_number AS number, health_inbound AS inbound, health_inbound_url AS "inboundUrl"`;

/**
 * One check per channel per interval across all instances: the first to claim it checks, and
 * only if no check (a connect, a repair) happened within the interval either.
 */
const CLAIM_CHECK: PreparedStatement = {
  name: 'sms-health-claim',
  text: `UPDATE sms_channels SET health_claimed_at = now()
    WHERE id = $1
      AND (health_claimed_at IS NULL OR health_claimed_at <= now() - $2 * interval '1 millisecond')
      AND (health_checked_at IS NULL OR health_checked_at <= now() - $2 * interval '1 millisecond')
    RETURNING id`,
};

/** What a check found; webhook_points_to_us follows it whenever the inbound route is known. */
const RECORD_CHECK: PreparedStatement = {
  name: 'sms-health-record',
  text: `UPDATE sms_channels SET health_checked_at = now(), health_credentials = $2,
      health_number = $3, health_inbound = $4, health_inbound_url = $5,
      webhook_points_to_us = CASE WHEN $4 = 'unknown' THEN webhook_points_to_us ELSE $4 = 'ours' END
    WHERE id = $1
    RETURNING ${HEALTH_COLUMNS}`,
};

/** What a send told us (rejected credentials, a number gone), without waiting for a check. */
const RECORD_SEND_NOTICE: PreparedStatement = {
  name: 'sms-health-send-notice',
  text: `UPDATE sms_channels SET health_credentials = COALESCE($2, health_credentials),
      health_number = COALESCE($3, health_number)
    WHERE id = $1
    RETURNING ${HEALTH_COLUMNS}`,
};

/** Each change of problem is reported once, whichever instance sees it first. */
const SWAP_REPORTED_PROBLEM: PreparedStatement = {
  name: 'sms-health-swap-reported',
  text: `UPDATE sms_channels SET health_reported_problem = $2
    WHERE id = $1 AND health_reported_problem IS DISTINCT FROM $2
    RETURNING id`,
};

/** The sweep's next channels: the longest unchecked first (never checked before all). */
const OLDEST_CHECKED: PreparedStatement = {
  name: 'sms-health-oldest',
  text: `SELECT id FROM sms_channels
    WHERE health_checked_at IS NULL OR health_checked_at <= now() - $2 * interval '1 millisecond'
    ORDER BY health_checked_at NULLS FIRST, id LIMIT $1`,
};

const COUNT_CHANNELS: PreparedStatement = {
  name: 'sms-health-count',
  text: `SELECT count(*)::int AS count FROM sms_channels`,
};

@Injectable()
export class SmsChannelHealthStore {
  constructor(private readonly statements: PreparedStatements) {}

  async claimCheck(channelId: string, intervalMs: number): Promise<boolean> {
    return (await this.statements.query(CLAIM_CHECK, [channelId, intervalMs])).length > 0;
  }

  async recordCheck(channelId: string, found: HealthFindings): Promise<StoredHealth | null> {
    const [row] = await this.statements.query<StoredHealth>(RECORD_CHECK, [
      channelId,
      found.credentials,
      found.number,
      found.inbound,
      found.inboundUrl,
    ]);
    return row ?? null;
  }

  async recordSendNotice(
    channelId: string,
    notice: { credentials?: CredentialsHealth; number?: NumberHealth },
  ): Promise<StoredHealth | null> {
    const [row] = await this.statements.query<StoredHealth>(RECORD_SEND_NOTICE, [
      channelId,
      notice.credentials ?? null,
      notice.number ?? null,
    ]);
    return row ?? null;
  }

  /** True when `problem` differs from the one last reported (and is now the reported one). */
  async swapReportedProblem(channelId: string, problem: string | null): Promise<boolean> {
    return (await this.statements.query(SWAP_REPORTED_PROBLEM, [channelId, problem])).length > 0;
  }

  /** At most `limit` channels not checked within `intervalMs`, the longest unchecked first. */
  async oldestChecked(limit: number, intervalMs: number): Promise<string[]> {
    const rows = await this.statements.query<{ id: string }>(OLDEST_CHECKED, [limit, intervalMs]);
    return rows.map((row) => row.id);
  }

  async countChannels(): Promise<number> {
    const [{ count }] = await this.statements.query<{ count: number }>(COUNT_CHANNELS, []);
    return count;
  }
}
