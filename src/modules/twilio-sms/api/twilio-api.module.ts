import { Module } from '@nestjs/common';
import { SmsErrorReporter } from '../sms-error-reporter';
import { TwilioRestAdapter } from './twilio-rest.adapter';

/**
 * The Twilio REST adapter and the SMS flow's error reporter on their own, so Channels and Inbox
 * can use them without the webhooks.
 */
@Module({
  providers: [TwilioRestAdapter, SmsErrorReporter],
  exports: [TwilioRestAdapter, SmsErrorReporter],
})
export class TwilioApiModule {}
