/**
 * A channel's Auth Tokens while the customer rotates theirs: the current one and, once they gave
 * us the new one (auth-token-rotation.use-case.ts), the pending one beside it. Every REST call and
 * every signature check goes through here, so one rule decides which token is used and when the
 * new one takes over: the first webhook it signs, or the first REST call where the old one is
 * rejected and the new one is accepted, promotes it and erases the old ciphertext in the same
 * statement. A promotion (and a reconnect) sends the replies held for rejected credentials.
 */
import { Injectable, Logger } from '@nestjs/common';
import { PreparedStatement, PreparedStatements } from '../../database/prepared-statements';
import { insertJobsSql, JobQueue } from '../../queue/job-queue';
import { QUEUES } from '../../queue/queue-names';
import { CredentialCipher, associatedDataFor, Secret } from '../crypto';
import { TwilioApiError, type TwilioCredentials } from '../twilio-sms';
import type { SmsChannel } from './sms-channel.entity';
import { authTokenAad, SmsChannelsService } from './sms-channels.service';

/** Twilio's code for rejected credentials; a reply held for them carries it (see HELD_FOR_CREDENTIALS). */
export const CREDENTIALS_REJECTED_CODE = 20003;

export const pendingAuthTokenAad = (channelId: string): string =>
  associatedDataFor('sms_channels', channelId, 'pending_auth_token_encrypted');

/** What the token rules need of a channel row. */
export type TokenChannel = Pick<
  SmsChannel,
  'id' | 'accountSid' | 'phoneNumber' | 'authTokenEncrypted' | 'pendingAuthTokenEncrypted'
>;

/**
 * The new token becomes the only one: the old ciphertext is overwritten in the same statement
 * that clears the pending one, and only if the pending one is still the one we checked (a cancel,
 * a reconnect or another instance's promotion meanwhile wins).
 */
const PROMOTE_PENDING_TOKEN: PreparedStatement = {
  name: 'sms-channel-promote-token',
  text: `UPDATE sms_channels SET auth_token_encrypted = $3, pending_auth_token_encrypted = NULL,
      health_credentials = 'valid', updated_at = now()
    WHERE id = $1 AND pending_auth_token_encrypted = $2
    RETURNING id`,
};

/**
 * Replies held because Twilio rejected the credentials (still pending, error 20003, no SID) are
 * queued for sending again, once per message (the job's singleton key).
 */
const RELEASE_HELD_REPLIES: PreparedStatement = {
  name: 'sms-channel-release-held',
  text: `WITH held AS (
      SELECT jsonb_build_object('messageId', m.id) AS data, m.id::text AS singleton_key
      FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.channel_id = $1 AND m.direction = 'outbound' AND m.twilio_sid IS NULL
        AND m.delivery_status = 'pending' AND m.error_code = ${CREDENTIALS_REJECTED_CODE}
    ),
    job AS (${insertJobsSql('held', '$2')})
    SELECT count(*)::int AS queued FROM job`,
};

/** Stores the customer's new token beside the current one (replacing an earlier pending one). */
const STORE_PENDING_TOKEN: PreparedStatement = {
  name: 'sms-channel-store-pending-token',
  text: `UPDATE sms_channels SET pending_auth_token_encrypted = $3, updated_at = now()
    WHERE id = $1 AND organization_id = $2 RETURNING id`,
};

/** Forgets the pending token (the customer cancelled the rotation). */
const CANCEL_PENDING_TOKEN: PreparedStatement = {
  name: 'sms-channel-cancel-pending-token',
  text: `UPDATE sms_channels SET pending_auth_token_encrypted = NULL, updated_at = now()
    WHERE id = $1 AND organization_id = $2 AND pending_auth_token_encrypted IS NOT NULL
    RETURNING id`,
};

/** Marks a reply held for credentials: not failed, sent again once the token is fixed. */
export const HELD_FOR_CREDENTIALS: PreparedStatement = {
  name: 'sms-delivery-held-for-credentials',
  text: `UPDATE messages SET delivery_status = 'pending', delivery_rank = $2, error_code = ${CREDENTIALS_REJECTED_CODE},
      error_message = $3, send_attempted_at = NULL, updated_at = now()
    WHERE id = $1 AND twilio_sid IS NULL`,
};

@Injectable()
export class SmsChannelTokens {
  private readonly logger = new Logger(SmsChannelTokens.name);

  constructor(
    private readonly channels: SmsChannelsService,
    private readonly cipher: CredentialCipher,
    private readonly statements: PreparedStatements,
    private readonly queue: JobQueue,
  ) {}

  /** The pending token's credentials, or null when none is stored. */
  pendingCredentials(channel: TokenChannel): TwilioCredentials | null {
    if (!channel.pendingAuthTokenEncrypted) return null;
    return {
      accountSid: channel.accountSid,
      authToken: this.cipher.decrypt(
        channel.pendingAuthTokenEncrypted,
        pendingAuthTokenAad(channel.id),
      ),
    };
  }

  async storePending(
    channel: TokenChannel & { organizationId: string },
    token: Secret,
  ): Promise<boolean> {
    const rows = await this.statements.query(STORE_PENDING_TOKEN, [
      channel.id,
      channel.organizationId,
      this.cipher.encrypt(token, pendingAuthTokenAad(channel.id)),
    ]);
    this.channels.forget(channel);
    return rows.length > 0;
  }

  /** False when no pending token was stored. */
  async cancelPending(channel: TokenChannel & { organizationId: string }): Promise<boolean> {
    const rows = await this.statements.query(CANCEL_PENDING_TOKEN, [
      channel.id,
      channel.organizationId,
    ]);
    this.channels.forget(channel);
    return rows.length > 0;
  }

  /** Which stored token `accepts` (e.g. a signature check) takes: the current one first. */
  whichSigns(
    channel: TokenChannel,
    accepts: (credentials: TwilioCredentials) => boolean,
  ): 'current' | 'pending' | null {
    if (accepts(this.channels.credentials(channel))) return 'current';
    const pending = this.pendingCredentials(channel);
    return pending && accepts(pending) ? 'pending' : null;
  }

  /**
   * Runs a Twilio call with the current token; if Twilio rejects it and a pending token is stored,
   * with the pending one, which is promoted when Twilio accepts it (the customer promoted it in
   * Twilio, so the old one will never work again).
   */
  async call<T>(
    channel: TokenChannel,
    action: (credentials: TwilioCredentials) => Promise<T>,
  ): Promise<T> {
    try {
      return await action(this.channels.credentials(channel));
    } catch (error) {
      const pending = this.pendingCredentials(channel);
      if (!(error instanceof TwilioApiError) || !error.isAuthenticationFailure || !pending)
        throw error;
      const result = await action(pending);
      // Twilio acted: a failed promotion must not make the caller think it did not (a send would
      // be repeated). The next call or webhook promotes again.
      await this.promote(channel).catch((promotion: unknown) => {
        this.logger.warn(
          { err: promotion, channelId: channel.id },
          'could not promote the new Auth Token',
        );
      });
      return result;
    }
  }

  /** Makes the pending token the only one (see PROMOTE_PENDING_TOKEN); false if it changed meanwhile. */
  async promote(channel: TokenChannel): Promise<boolean> {
    const pending = this.pendingCredentials(channel);
    if (!pending || !channel.pendingAuthTokenEncrypted) return false;
    const promoted = await this.statements.query(PROMOTE_PENDING_TOKEN, [
      channel.id,
      channel.pendingAuthTokenEncrypted,
      this.cipher.encrypt(pending.authToken, authTokenAad(channel.id)),
    ]);
    this.channels.forget(channel);
    if (promoted.length === 0) return false;
    this.logger.log({ channelId: channel.id }, 'new Auth Token promoted; the old one is erased');
    await this.releaseHeldReplies(channel.id);
    return true;
  }

  /** Sends again the replies held while Twilio rejected the channel's credentials. */
  async releaseHeldReplies(channelId: string): Promise<number> {
    const [{ queued }] = await this.statements.query<{ queued: number }>(RELEASE_HELD_REPLIES, [
      channelId,
      QUEUES.smsSend,
    ]);
    if (queued > 0) {
      this.logger.log({ channelId, queued }, 'replies held for rejected credentials queued again');
      this.queue.nudge(QUEUES.smsSend);
    }
    return queued;
  }
}
