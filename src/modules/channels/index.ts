// What other modules may import from channels (eslint enforces it; README "Module map").
export { ChannelsModule } from './channels.module';
export { SmsChannel } from './sms-channel.entity';
export {
  SmsChannelsService,
  STATUS_CALLBACK_MESSAGE_ID,
  type WebhookChannel,
} from './sms-channels.service';
