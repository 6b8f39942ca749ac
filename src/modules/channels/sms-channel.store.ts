/**
 * Every statement on `sms_channels`: the channel a number or a chatbot owns, connect's writes,
 * the Auth Token columns while a customer rotates theirs, the health columns, and the bookkeeping
 * the SMS flow keeps on a channel. Other stores' single statements (the inbound webhook's, the
 * delivery's) read or touch a channel row only through the `SmsChannelSql` fragments below, so
 * each rule on this table is written here once.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { PreparedStatements } from '../../database/prepared-statements';
import { Statement, statement } from '../../database/statement';
import type { Transaction } from '../../database/transactions';
import type {
  CredentialsHealth,
  InboundHealth,
  InboundWebhookOn,
  NumberHealth,
} from './sms-channel.entity';
import { SmsChannel } from './sms-channel.entity';

/** What the webhooks need of a channel: one indexed row, no entity hydration. */
export type WebhookChannel = Pick<
  SmsChannel,
  | 'id'
  | 'organizationId'
  | 'chatbotId'
  | 'accountSid'
  | 'phoneNumber'
  | 'authTokenEncrypted'
  | 'messagingServiceSid'
  | 'pendingAuthTokenEncrypted'
>;

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

/** A timestamp column moved to now() at most once a second: the row lock would otherwise queue every message of a busy number behind the previous one's commit. */
const touchAtMostOncePerSecond = (column: string, id: string, when = 'true'): string =>
  `UPDATE sms_channels SET ${column} = now()
    WHERE id = ${id} AND ${when} AND (${column} IS NULL OR ${column} < now() - interval '1 second')`;

/**
 * Fragments other stores' single statements embed (each argument is an SQL expression: a
 * placeholder, a column, a condition), so the hot paths stay one round trip and the rules on this
 * table stay here.
 */
export const SmsChannelSql = {
  /** The channel row as the caller read it (signature checked with it): same number, same token ciphertext. */
  stillAsRead: (id: string, phoneNumber: string, authTokenEncrypted: string): string =>
    `SELECT id FROM sms_channels
      WHERE id = ${id} AND phone_number = ${phoneNumber} AND auth_token_encrypted = ${authTokenEncrypted}`,
  /** A message came in on the channel (`when`: it was stored). */
  touchLastInbound: (id: string, when: string): string =>
    touchAtMostOncePerSecond('last_inbound_at', id, when),
  /** Twilio accepted a message from the channel. */
  touchLastOutbound: (id: string): string => touchAtMostOncePerSecond('last_outbound_at', id),
  /** What sending from the channel row `alias` needs, under the names OutboundChannelColumns gives them. */
  sendingColumns: (alias: string): string =>
    `${alias}.id AS channel_id, ${alias}.account_sid, ${alias}.phone_number, ${alias}.auth_token_encrypted,
      ${alias}.messaging_service_sid, ${alias}.pending_auth_token_encrypted`,
};

/** The columns of SmsChannelSql.sendingColumns (null when the conversation has no channel any more). */
export interface OutboundChannelColumns {
  channel_id: string | null;
  account_sid: string | null;
  phone_number: string | null;
  auth_token_encrypted: string | null;
  messaging_service_sid: string | null;
  pending_auth_token_encrypted: string | null;
}

interface PendingToken {
  id: string;
  organizationId: string;
  /** The new token, encrypted for the pending column. */
  ciphertext: string;
}

interface TokenPromotion {
  id: string;
  /** The pending ciphertext that was checked: the promotion happens only if it is still there. */
  pendingCiphertext: string;
  /** The same token, encrypted again for the current column. */
  currentCiphertext: string;
}

/** The channel that owns a number, as the webhooks read it. */
const CHANNEL_BY_NUMBER = statement<{ phoneNumber: string }>(
  'sms-channel-by-number',
  (p) => `SELECT id, organization_id AS "organizationId", chatbot_id AS "chatbotId",
      account_sid AS "accountSid", phone_number AS "phoneNumber",
      auth_token_encrypted AS "authTokenEncrypted",
      pending_auth_token_encrypted AS "pendingAuthTokenEncrypted",
      messaging_service_sid AS "messagingServiceSid"
    FROM sms_channels WHERE phone_number = ${p.phoneNumber}`,
);

/**
 * The new token becomes the only one: the old ciphertext is overwritten in the same statement
 * that clears the pending one, and only if the pending one is still the one we checked (a cancel,
 * a reconnect or another instance's promotion meanwhile wins).
 */
const PROMOTE_PENDING_TOKEN = statement<TokenPromotion>(
  'sms-channel-promote-token',
  (p) => `UPDATE sms_channels SET auth_token_encrypted = ${p.currentCiphertext},
      pending_auth_token_encrypted = NULL, health_credentials = 'valid', updated_at = now()
    WHERE id = ${p.id} AND pending_auth_token_encrypted = ${p.pendingCiphertext}
    RETURNING id`,
);

/** The customer's new token beside the current one (replacing an earlier pending one). */
const STORE_PENDING_TOKEN = statement<PendingToken>(
  'sms-channel-store-pending-token',
  (p) => `UPDATE sms_channels SET pending_auth_token_encrypted = ${p.ciphertext}, updated_at = now()
    WHERE id = ${p.id} AND organization_id = ${p.organizationId} RETURNING id`,
);

/** The customer cancelled the rotation: the pending token is forgotten. */
const CANCEL_PENDING_TOKEN = statement<{ id: string; organizationId: string }>(
  'sms-channel-cancel-pending-token',
  (p) => `UPDATE sms_channels SET pending_auth_token_encrypted = NULL, updated_at = now()
    WHERE id = ${p.id} AND organization_id = ${p.organizationId}
      AND pending_auth_token_encrypted IS NOT NULL
    RETURNING id`,
);

const HEALTH_COLUMNS = `health_checked_at AS "checkedAt", health_credentials AS credentials,
  health_number AS number, health_inbound AS inbound, health_inbound_url AS "inboundUrl"`;

/**
 * One check per channel per interval across all instances: the first to claim it checks, and
 * only if no check (a connect, a repair) happened within the interval either.
 */
const CLAIM_HEALTH_CHECK = statement<{ id: string; intervalMs: number }>(
  'sms-health-claim',
  (p) => `UPDATE sms_channels SET health_claimed_at = now()
    WHERE id = ${p.id}
      AND (health_claimed_at IS NULL OR health_claimed_at <= now() - ${p.intervalMs} * interval '1 millisecond')
      AND (health_checked_at IS NULL OR health_checked_at <= now() - ${p.intervalMs} * interval '1 millisecond')
    RETURNING id`,
);

/** What a check found; webhook_points_to_us follows it whenever the inbound route is known. */
const RECORD_HEALTH_CHECK = statement<{ id: string } & HealthFindings>(
  'sms-health-record',
  (p) => `UPDATE sms_channels SET health_checked_at = now(), health_credentials = ${p.credentials},
      health_number = ${p.number}, health_inbound = ${p.inbound}, health_inbound_url = ${p.inboundUrl},
      webhook_points_to_us = CASE WHEN ${p.inbound} = 'unknown' THEN webhook_points_to_us ELSE ${p.inbound} = 'ours' END
    WHERE id = ${p.id}
    RETURNING ${HEALTH_COLUMNS}`,
);

/** What a send told us (rejected credentials, a number gone), without waiting for a check. */
const RECORD_SEND_NOTICE = statement<{
  id: string;
  credentials: CredentialsHealth | null;
  number: NumberHealth | null;
}>(
  'sms-health-send-notice',
  (
    p,
  ) => `UPDATE sms_channels SET health_credentials = COALESCE(${p.credentials}, health_credentials),
      health_number = COALESCE(${p.number}, health_number)
    WHERE id = ${p.id}
    RETURNING ${HEALTH_COLUMNS}`,
);

/** Each change of problem is reported once, whichever instance sees it first. */
const SWAP_REPORTED_PROBLEM = statement<{ id: string; problem: string | null }>(
  'sms-health-swap-reported',
  (p) => `UPDATE sms_channels SET health_reported_problem = ${p.problem}
    WHERE id = ${p.id} AND health_reported_problem IS DISTINCT FROM ${p.problem}
    RETURNING id`,
);

/** The sweep's next channels: the longest unchecked first (never checked before all). */
const OLDEST_CHECKED = statement<{ limit: number; intervalMs: number }>(
  'sms-health-oldest',
  (p) => `SELECT id FROM sms_channels
    WHERE health_checked_at IS NULL OR health_checked_at <= now() - ${p.intervalMs} * interval '1 millisecond'
    ORDER BY health_checked_at NULLS FIRST, id LIMIT ${p.limit}`,
);

const COUNT_CHANNELS = statement<object>(
  'sms-health-count',
  () => `SELECT count(*)::int AS count FROM sms_channels`,
);

/** The inbound URL we replaced when we set it, and how Twilio was to call it. */
export interface ReplacedInboundUrl {
  url: string | null;
  method: string | null;
}

@Injectable()
export class SmsChannelStore {
  constructor(
    @InjectRepository(SmsChannel) private readonly repository: Repository<SmsChannel>,
    private readonly statements: PreparedStatements,
  ) {}

  // The channel resource (the dashboard's routes, the sweep).

  findForChatbot(organizationId: string, chatbotId: string): Promise<SmsChannel | null> {
    return this.repository.findOneBy({ organizationId, chatbotId });
  }

  findById(id: string): Promise<SmsChannel | null> {
    return this.repository.findOneBy({ id });
  }

  /** The webhooks' read of the channel that owns a number (null: none). */
  async findByNumberForWebhook(phoneNumber: string): Promise<WebhookChannel | null> {
    const [row] = await this.statements.run<WebhookChannel>(CHANNEL_BY_NUMBER, { phoneNumber });
    return row ?? null;
  }

  /** Whether a connected channel (any organization's) sends through this Messaging Service. */
  isMessagingServiceConnected(messagingServiceSid: string): Promise<boolean> {
    return this.repository.existsBy({ messagingServiceSid });
  }

  async delete(id: string): Promise<void> {
    await this.repository.delete({ id });
  }

  // Connect: one transaction (connect-sms-channel.use-case.ts decides what is written).

  /** The chatbot's channel, locked until the transaction ends (a concurrent connect waits). */
  lockForChatbot(tx: Transaction, chatbotId: string): Promise<SmsChannel | null> {
    return tx.getRepository(SmsChannel).findOne({
      where: { chatbotId },
      lock: { mode: 'pessimistic_write' },
    });
  }

  findByNumber(tx: Transaction, phoneNumber: string): Promise<SmsChannel | null> {
    return tx.getRepository(SmsChannel).findOneBy({ phoneNumber });
  }

  /**
   * What another chatbot's channel replaced on this Messaging Service's inbound URL, so that the
   * last channel to disconnect from a shared service restores it.
   */
  async replacedOnService(
    tx: Transaction,
    messagingServiceSid: string,
    otherThanChatbotId: string,
  ): Promise<ReplacedInboundUrl | null> {
    const other = await tx.getRepository(SmsChannel).findOneBy({
      messagingServiceSid,
      webhookConfiguredOn: 'service',
      webhookPreviousUrl: Not(IsNull()),
      chatbotId: Not(otherThanChatbotId),
    });
    return other ? { url: other.webhookPreviousUrl, method: other.webhookPreviousMethod } : null;
  }

  /** Inserts or replaces the chatbot's channel row with these values (id included). */
  async save(tx: Transaction, values: Partial<SmsChannel> & { id: string }): Promise<void> {
    const repository = tx.getRepository(SmsChannel);
    await repository.save(repository.create(values));
  }

  /** Where the inbound URL Twilio uses for the number points after we set it. */
  async recordInboundRoute(
    tx: Transaction,
    id: string,
    route: { pointsToUs: boolean; inbound: InboundHealth; inboundUrl: string | null },
  ): Promise<void> {
    await tx.getRepository(SmsChannel).update(
      { id },
      {
        webhookPointsToUs: route.pointsToUs,
        healthInbound: route.inbound,
        healthInboundUrl: route.inboundUrl,
      },
    );
  }

  get(tx: Transaction, id: string): Promise<SmsChannel> {
    return tx.getRepository(SmsChannel).findOneByOrFail({ id });
  }

  /** We pointed the inbound URL at us (the repair): disconnect clears it again. */
  async markInboundSetByUs(id: string, on: InboundWebhookOn): Promise<void> {
    await this.repository.update({ id }, { webhookConfiguredByUs: true, webhookConfiguredOn: on });
  }

  /**
   * A human agent's reply: the conversation's channel, share-locked so a concurrent disconnect
   * waits for the reply's commit (null: disconnected, or another chatbot's number now).
   */
  lockForAgentReply(
    tx: Transaction,
    channel: { id: string; organizationId: string; chatbotId: string },
  ): Promise<SmsChannel | null> {
    return tx.getRepository(SmsChannel).findOne({
      where: channel,
      lock: { mode: 'pessimistic_read' },
    });
  }

  // The SMS flow's bookkeeping.

  /** The reason of the latest failed delivery, shown in the channel's status. */
  async recordError(id: string, reason: string, at = new Date()): Promise<void> {
    await this.repository.update({ id }, { lastError: reason.slice(0, 500), lastErrorAt: at });
  }

  // Auth Token rotation (sms-channel-tokens.ts decides which token is used and when).

  /** The customer's new token beside the current one; false when the channel is not theirs. */
  storePendingToken(channel: PendingToken): Promise<boolean> {
    return this.changesRow(STORE_PENDING_TOKEN, channel);
  }

  /** False when no pending token was stored. */
  cancelPendingToken(channel: { id: string; organizationId: string }): Promise<boolean> {
    return this.changesRow(CANCEL_PENDING_TOKEN, channel);
  }

  /** False when the pending ciphertext is no longer the one checked (see PROMOTE_PENDING_TOKEN). */
  promotePendingToken(channel: TokenPromotion): Promise<boolean> {
    return this.changesRow(PROMOTE_PENDING_TOKEN, channel);
  }

  // Health (channel-health.service.ts decides what is checked and reported).

  claimHealthCheck(id: string, intervalMs: number): Promise<boolean> {
    return this.changesRow(CLAIM_HEALTH_CHECK, { id, intervalMs });
  }

  async recordHealthCheck(id: string, found: HealthFindings): Promise<StoredHealth | null> {
    const [row] = await this.statements.run<StoredHealth>(RECORD_HEALTH_CHECK, { id, ...found });
    return row ?? null;
  }

  async recordSendNotice(
    id: string,
    notice: { credentials?: CredentialsHealth; number?: NumberHealth },
  ): Promise<StoredHealth | null> {
    const [row] = await this.statements.run<StoredHealth>(RECORD_SEND_NOTICE, {
      id,
      credentials: notice.credentials ?? null,
      number: notice.number ?? null,
    });
    return row ?? null;
  }

  /** True when `problem` differs from the one last reported (and is now the reported one). */
  swapReportedProblem(id: string, problem: string | null): Promise<boolean> {
    return this.changesRow(SWAP_REPORTED_PROBLEM, { id, problem });
  }

  /** At most `limit` channels not checked within `intervalMs`, the longest unchecked first. */
  async oldestChecked(limit: number, intervalMs: number): Promise<string[]> {
    const rows = await this.statements.run<{ id: string }>(OLDEST_CHECKED, { limit, intervalMs });
    return rows.map((row) => row.id);
  }

  async count(): Promise<number> {
    const [{ count }] = await this.statements.run<{ count: number }>(COUNT_CHANNELS, {});
    return count;
  }

  /** Runs an UPDATE … RETURNING: whether it changed a row. */
  private async changesRow<P extends object>(update: Statement<P>, params: P): Promise<boolean> {
    return (await this.statements.run(update, params)).length > 0;
  }
}
