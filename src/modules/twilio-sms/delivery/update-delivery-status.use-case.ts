/**
 * Twilio's status callbacks for messages we sent. They repeat, arrive late and out of order, or
 * name SIDs we never stored: every case is harmless because a status may only move forward
 * (delivery_rank) and the update is scoped to the signing channel's chatbot. One may also come
 * before Messages.create answered us (or instead of the answer, when it was lost): its URL names
 * our message, so the SID is stored from the callback and the status applies.
 */
import { Injectable } from '@nestjs/common';
import { PreparedStatement, PreparedStatements } from '../../../database/prepared-statements';
import { SmsChannelsService, WebhookChannel } from '../../channels';
import { SmsErrorReporter } from '../sms-error-reporter';
import { DELIVERY_RANK, describeTwilioErrorCode, MESSAGE_SID } from '../../../common/sms';

const FAILED = new Set(['failed', 'undelivered']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_INT4 = 2_147_483_647;

export class DeliveryFailure extends Error {
  constructor(
    readonly code: number | null,
    reason: string,
  ) {
    super(reason);
    this.name = 'DeliveryFailure';
  }
}

/** Never backwards: a late 'sent' after 'delivered' changes nothing. */
const UPDATE_DELIVERY_STATUS: PreparedStatement = {
  name: 'update-sms-delivery-status',
  text: `UPDATE messages m SET delivery_status = $2, delivery_rank = $3,
      error_code = COALESCE($4, m.error_code), error_message = COALESCE($5, m.error_message), updated_at = now()
    FROM conversations c
    WHERE m.twilio_sid = $1 AND m.direction = 'outbound' AND m.delivery_rank < $3
      AND c.id = m.conversation_id AND c.chatbot_id = $6
    RETURNING m.id`,
};

/**
 * A callback for a message whose SID we do not hold yet: the message its URL names takes the SID,
 * unless it already holds one (never overwritten: see SmsDeliveryService) or another message does.
 * Only a message we tried to send can have one.
 */
const STORE_SID_FROM_CALLBACK: PreparedStatement = {
  name: 'store-sms-sid-from-callback',
  text: `UPDATE messages m SET twilio_sid = $1, updated_at = now()
    FROM conversations c
    WHERE m.id = $2 AND m.twilio_sid IS NULL AND m.send_attempted_at IS NOT NULL
      AND m.direction = 'outbound' AND c.id = m.conversation_id AND c.chatbot_id = $3
      AND NOT EXISTS (SELECT 1 FROM messages taken WHERE taken.twilio_sid = $1)
    RETURNING m.id`,
};

@Injectable()
export class UpdateDeliveryStatusUseCase {
  constructor(
    private readonly statements: PreparedStatements,
    private readonly channels: SmsChannelsService,
    private readonly reporter: SmsErrorReporter,
  ) {}

  /** `messageId`: our message's id from the StatusCallback URL's query, when it has one. */
  async execute(
    channel: WebhookChannel,
    params: Record<string, string | string[]>,
    messageId?: unknown,
  ): Promise<{ updated: boolean }> {
    const sid = String(params.MessageSid ?? '');
    const status = String(params.MessageStatus ?? '').toLowerCase();
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's.
    const rank = Object.hasOwn(DELIVERY_RANK, status) ? DELIVERY_RANK[status] : undefined;
    if (!MESSAGE_SID.test(sid) || rank === undefined) return { updated: false };
    const errorCode = Number.parseInt(String(params.ErrorCode ?? ''), 10);
    const failed = FAILED.has(status);
    // error_code is an int4; Twilio's codes are 5-digit.
    const code =
      failed && Number.isInteger(errorCode) && errorCode > 0 && errorCode <= MAX_INT4
        ? errorCode
        : null;
    const reason = failed
      ? describeTwilioErrorCode(code, `Twilio reported the message as ${status}`)
      : null;
    const values = [sid, status, rank, code, reason, channel.chatbotId];
    let rows = await this.statements.query<{ id: string }>(UPDATE_DELIVERY_STATUS, values);
    if (rows.length === 0 && typeof messageId === 'string' && UUID.test(messageId)) {
      const stored = await this.statements.query(STORE_SID_FROM_CALLBACK, [
        sid,
        messageId,
        channel.chatbotId,
      ]);
      if (stored.length > 0) {
        rows = await this.statements.query<{ id: string }>(UPDATE_DELIVERY_STATUS, values);
      }
    }
    const updated = rows.length > 0;
    if (updated && failed) {
      await this.channels.recordError(channel.id, reason as string);
      this.reporter.capture(
        new DeliveryFailure(code, reason as string),
        { chatbotId: channel.chatbotId, channelId: channel.id, messageId: rows[0].id },
        'warning',
      );
    }
    return { updated };
  }
}
