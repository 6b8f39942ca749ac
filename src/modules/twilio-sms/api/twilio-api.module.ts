import { Module } from '@nestjs/common';
import { TwilioRestAdapter } from './twilio-rest.adapter';

/** The Twilio REST adapter on its own, so Channels and Inbox can use it without the webhooks. */
@Module({ providers: [TwilioRestAdapter], exports: [TwilioRestAdapter] })
export class TwilioApiModule {}
