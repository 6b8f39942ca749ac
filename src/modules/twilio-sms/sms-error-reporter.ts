import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/nestjs';

export interface SmsErrorContext {
  chatbotId?: string | null;
  channelId?: string | null;
  messageId?: string | null;
}

/**
 * Every error of the SMS flow goes to Sentry tagged `feature: channels/sms` with the chatbot and
 * channel ids, so "check Sentry's channels/sms tag" in the product guide finds it. Message bodies
 * and credentials are never attached (and beforeSend scrubs anything that slips through).
 */
@Injectable()
export class SmsErrorReporter {
  private readonly logger = new Logger('channels/sms');
  private readonly reportedAt = new Map<string, number>();

  capture(error: unknown, context: SmsErrorContext, level: 'error' | 'warning' = 'error'): void {
    this.logger[level === 'error' ? 'error' : 'warn']({ err: error, ...context }, 'SMS flow error');
    Sentry.withScope((scope) => {
      scope.setLevel(level);
      scope.setTag('feature', 'channels/sms');
      if (context.chatbotId) scope.setTag('chatbot_id', context.chatbotId);
      if (context.channelId) scope.setTag('channel_id', context.channelId);
      if (context.messageId) scope.setTag('message_id', context.messageId);
      Sentry.captureException(error);
    });
  }

  /**
   * As capture(), at most once a minute per `key`: for errors anyone can repeat at will (a webhook
   * naming a broken channel), which must not flood Sentry or the logs.
   */
  captureOncePerMinute(
    key: string,
    error: unknown,
    context: SmsErrorContext,
    level: 'error' | 'warning' = 'error',
  ): void {
    const now = Date.now();
    if (now - (this.reportedAt.get(key) ?? -Infinity) < 60_000) return;
    if (this.reportedAt.size >= 10_000) this.reportedAt.clear();
    this.reportedAt.set(key, now);
    this.capture(error, context, level);
  }
}
