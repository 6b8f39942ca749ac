/**
 * Twilio's status callbacks for messages we sent. They repeat, arrive late and out of order, or
 * name SIDs we never stored: every case is harmless because a status may only move forward
 * (delivery_rank) and the update is scoped to the signing channel's chatbot.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SmsChannel } from '../../channels/sms-channel.entity';
import { SmsChannelsService } from '../../channels/sms-channels.service';
import { DELIVERY_RANK } from '../../inbox/message.entity';
import { SmsErrorReporter } from '../sms-error-reporter';
import { describeTwilioErrorCode } from '../sms-text';

const FAILED = new Set(['failed', 'undelivered']);

export class DeliveryFailure extends Error {
  constructor(
    readonly code: number | null,
    reason: string,
  ) {
    super(reason);
    this.name = 'DeliveryFailure';
  }
}

@Injectable()
export class UpdateDeliveryStatusUseCase {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly channels: SmsChannelsService,
    private readonly reporter: SmsErrorReporter,
  ) {}

  async execute(
    channel: SmsChannel,
    params: Record<string, string | string[]>,
  ): Promise<{ updated: boolean }> {
    const sid = String(params.MessageSid ?? '');
    const status = String(params.MessageStatus ?? '').toLowerCase();
    const rank = DELIVERY_RANK[status];
    if (!sid || rank === undefined) return { updated: false };
    const errorCode = Number.parseInt(String(params.ErrorCode ?? ''), 10);
    const failed = FAILED.has(status);
    const code = failed && Number.isFinite(errorCode) ? errorCode : null;
    const reason = failed
      ? describeTwilioErrorCode(code, `Twilio reported the message as ${status}`)
      : null;
    const rows: { id: string }[] = await this.dataSource.query(
      `UPDATE messages m SET delivery_status = $2, delivery_rank = $3,
         error_code = COALESCE($4, m.error_code), error_message = COALESCE($5, m.error_message), updated_at = now()
       FROM conversations c
       WHERE m.twilio_sid = $1 AND m.direction = 'outbound' AND m.delivery_rank < $3
         AND c.id = m.conversation_id AND c.chatbot_id = $6
       RETURNING m.id`,
      [sid, status, rank, code, reason, channel.chatbotId],
    );
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
