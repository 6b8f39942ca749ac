// What other modules may import from channels (eslint enforces it; README "Module map").
export { ChannelHealthService } from './channel-health.service';
export { ChannelsModule } from './channels.module';
export { SmsChannel } from './sms-channel.entity';
export {
  SmsChannelsService,
  STATUS_CALLBACK_MESSAGE_ID,
  type WebhookChannel,
} from './sms-channels.service';
export { HELD_FOR_CREDENTIALS, SmsChannelTokens } from './sms-channel-tokens';
