import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentModule } from '../agent';
import { CryptoModule } from '../crypto';
import { TwilioApiModule } from '../twilio-sms';
import { AuthTokenRotationUseCase } from './auth-token-rotation.use-case';
import { ChannelHealthSweep } from './channel-health-sweep';
import { ChannelHealthService } from './channel-health.service';
import { ConnectSmsChannelUseCase } from './connect-sms-channel.use-case';
import { DisconnectSmsChannelUseCase } from './disconnect-sms-channel.use-case';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelController } from './sms-channel.controller';
import { RepairSmsWebhookUseCase } from './repair-sms-webhook.use-case';
import { SmsChannelEvents } from './sms-channel-events';
import { SmsChannelStore } from './sms-channel.store';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsWebhookUrls } from './sms-webhook-urls';
import { WebhookChannelLookup } from './webhook-channel-lookup';

/** The SMS channel resource: connect, status, disconnect, health, repair, Auth Token rotation; owns sms_channels. */
@Module({
  imports: [TypeOrmModule.forFeature([SmsChannel]), AgentModule, CryptoModule, TwilioApiModule],
  controllers: [SmsChannelController],
  providers: [
    SmsChannelStore,
    WebhookChannelLookup,
    SmsWebhookUrls,
    SmsChannelEvents,
    SmsChannelTokens,
    ConnectSmsChannelUseCase,
    DisconnectSmsChannelUseCase,
    ChannelHealthService,
    ChannelHealthSweep,
    AuthTokenRotationUseCase,
    RepairSmsWebhookUseCase,
  ],
  exports: [
    SmsChannelStore,
    WebhookChannelLookup,
    SmsWebhookUrls,
    SmsChannelEvents,
    SmsChannelTokens,
    ChannelHealthService,
  ],
})
export class ChannelsModule {}
