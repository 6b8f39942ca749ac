/** The URLs Twilio calls us on, built from PUBLIC_BASE_URL (never a Host header a proxy rewrote). */
import { Inject, Injectable } from '@nestjs/common';
import { STATUS_CALLBACK_PATH, WEBHOOK_PATH } from '../../common/sms';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/**
 * The query parameter of our StatusCallback URLs naming the outbound message: Twilio posts to the
 * exact URL and signs it, query included, so a callback that beats Messages.create's answer still
 * finds its message.
 */
export const STATUS_CALLBACK_MESSAGE_ID = 'messageId';

@Injectable()
export class SmsWebhookUrls {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Where a connected number's inbound messages must be posted. */
  get inbound(): string {
    return `${this.config.publicBaseUrl}${WEBHOOK_PATH}`;
  }

  /** The StatusCallback of one outbound message. */
  statusCallbackFor(messageId: string): string {
    const query = new URLSearchParams({ [STATUS_CALLBACK_MESSAGE_ID]: messageId });
    return `${this.config.publicBaseUrl}${STATUS_CALLBACK_PATH}?${query}`;
  }
}
