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
import { SmsChannelHealthStore } from './sms-channel-health.store';
import { SmsChannelTokens } from './sms-channel-tokens';
import { SmsChannelsService } from './sms-channels.service';

@Module({
  imports: [TypeOrmModule.forFeature([SmsChannel]), AgentModule, CryptoModule, TwilioApiModule],
  controllers: [SmsChannelController],
  providers: [
    SmsChannelsService,
    ConnectSmsChannelUseCase,
    DisconnectSmsChannelUseCase,
    SmsChannelTokens,
    SmsChannelHealthStore,
    ChannelHealthService,
    ChannelHealthSweep,
    AuthTokenRotationUseCase,
    RepairSmsWebhookUseCase,
  ],
  exports: [SmsChannelsService, SmsChannelTokens, ChannelHealthService],
})
export class ChannelsModule {}
