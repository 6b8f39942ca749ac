// What other modules may import from twilio-sms: the Twilio REST adapter and the error reporter
// (eslint enforces it; README "Module map"). TwilioSmsModule itself is imported by AppModule only:
// exporting it here would make channels -> twilio-sms -> channels a load cycle.
export { TwilioApiError } from './api/twilio-api.error';
export { TwilioApiModule } from './api/twilio-api.module';
export {
  type TwilioCredentials,
  type TwilioIncomingNumber,
  type TwilioMessagingServicePool,
  TwilioRestAdapter,
} from './api/twilio-rest.adapter';
export { SmsErrorReporter } from './sms-error-reporter';
export { WEBHOOK_SCHEMAS } from './webhooks/twilio-webhook.openapi';
