import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentModule } from '../agent';
import { CryptoModule } from '../crypto';
import { TwilioApiModule } from '../twilio-sms';
import { ConnectSmsChannelUseCase } from './connect-sms-channel.use-case';
import { DisconnectSmsChannelUseCase } from './disconnect-sms-channel.use-case';
import { SmsChannel } from './sms-channel.entity';
import { SmsChannelController } from './sms-channel.controller';
import { SmsChannelsService } from './sms-channels.service';

@Module({
  imports: [TypeOrmModule.forFeature([SmsChannel]), AgentModule, CryptoModule, TwilioApiModule],
  controllers: [SmsChannelController],
  providers: [SmsChannelsService, ConnectSmsChannelUseCase, DisconnectSmsChannelUseCase],
  exports: [SmsChannelsService],
})
export class ChannelsModule {}
