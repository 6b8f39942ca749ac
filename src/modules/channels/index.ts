// What other modules may import from channels (eslint enforces it; README "Module map").
export { ChannelHealthService } from './channel-health.service';
export { ChannelsModule } from './channels.module';
export { SmsChannel } from './sms-channel.entity';
export { SmsChannelEvents } from './sms-channel-events';
export {
  type OutboundChannelColumns,
  SmsChannelSql,
  SmsChannelStore,
  type WebhookChannel,
} from './sms-channel.store';
export { SmsChannelTokens } from './sms-channel-tokens';
export { SmsWebhookUrls, STATUS_CALLBACK_MESSAGE_ID } from './sms-webhook-urls';
export { WebhookChannelLookup } from './webhook-channel-lookup';
