import { Module } from '@nestjs/common';
import { AgentModule } from '../agent';
import { ChannelsModule } from '../channels';
import { InboxModule } from '../inbox';
import { OptOutsModule } from '../opt-outs';
import { TwilioApiModule } from './api/twilio-api.module';
import { HeldReplies } from './delivery/held-replies';
import { SmsDeliveryService } from './delivery/sms-delivery.service';
import { UpdateDeliveryStatusUseCase } from './delivery/update-delivery-status.use-case';
import { ReceiveInboundSmsUseCase } from './inbound/receive-inbound-sms.use-case';
import { SendSmsReplyUseCase } from './replies/send-sms-reply.use-case';
import { SmsWorkers } from './replies/sms-workers';
import { TwilioSignatureGuard } from './webhooks/twilio-signature.guard';
import { TwilioWebhookController } from './webhooks/twilio-webhook.controller';
import { WebhookFailureLimiter } from './webhooks/webhook-failure-limiter';

/** Where an SMS enters (signed webhooks) and where it is answered (reply and delivery workers). */
@Module({
  imports: [TwilioApiModule, ChannelsModule, InboxModule, AgentModule, OptOutsModule],
  controllers: [TwilioWebhookController],
  providers: [
    TwilioSignatureGuard,
    WebhookFailureLimiter,
    ReceiveInboundSmsUseCase,
    UpdateDeliveryStatusUseCase,
    SendSmsReplyUseCase,
    SmsDeliveryService,
    HeldReplies,
    SmsWorkers,
  ],
})
export class TwilioSmsModule {}
