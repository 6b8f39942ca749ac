/**
 * Twilio's status callbacks for messages we sent. They repeat, arrive late and out of order, or
 * name SIDs we never stored: every case is harmless because a status may only move forward
 * (delivery_rank) and the update is scoped to the signing channel's chatbot. One may also come
 * before Messages.create answered us (or instead of the answer, when it was lost): its URL names
 * our message, so the SID is stored from the callback and the status applies.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { SmsChannelStore, WebhookChannel } from '../../channels';
import { MessageStore } from '../../inbox';
import { SmsErrorReporter } from '../sms-error-reporter';
import { deliveryRankOf, describeTwilioErrorCode, MESSAGE_SID } from '../../../common/sms';

const FAILED = new Set(['failed', 'undelivered']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_INT4 = 2_147_483_647;

/** Twilio reported one of our messages failed or undelivered (`twilioCode`: its error code). */
export class DeliveryFailure extends DomainError {
  constructor(
    readonly twilioCode: number | null,
    reason: string,
  ) {
    super('SMS_DELIVERY_FAILED', reason);
  }
}

@Injectable()
export class UpdateDeliveryStatusUseCase {
  constructor(
    private readonly messages: MessageStore,
    private readonly channels: SmsChannelStore,
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
    if (!MESSAGE_SID.test(sid) || deliveryRankOf(status) === undefined) return { updated: false };
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
    const update = {
      sid,
      status,
      errorCode: code,
      errorMessage: reason,
      chatbotId: channel.chatbotId,
    };
    let ids = await this.messages.applyDeliveryStatus(update);
    if (
      ids.length === 0 &&
      typeof messageId === 'string' &&
      UUID.test(messageId) &&
      (await this.messages.adoptSidFromCallback({ sid, messageId, chatbotId: channel.chatbotId }))
    ) {
      ids = await this.messages.applyDeliveryStatus(update);
    }
    const updated = ids.length > 0;
    if (updated && failed) {
      await this.channels.recordError(channel.id, reason as string);
      this.reporter.capture(
        new DeliveryFailure(code, reason as string),
        { chatbotId: channel.chatbotId, channelId: channel.id, messageId: ids[0] },
        'warning',
      );
    }
    return { updated };
  }
}
