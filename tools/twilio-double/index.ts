/** The Twilio double (see twilio-double.ts): what tests, the benchmark and `npm run demo` import. */
export { TwilioDouble } from './twilio-double';
export type {
  AccountCredentials,
  AccountState,
  AccountStatus,
  AccountType,
  AddAccountOptions,
} from './accounts';
export type { DropOptions, FaultFilter, FaultKind, InjectedError } from './faults';
export type {
  AddNumberOptions,
  Capabilities,
  HttpMethodName,
  NumberState,
} from './incoming-phone-numbers';
export type { MessageStatus, RecordedMessage } from './messages';
export type { AddMessagingServiceOptions, MessagingServiceState } from './messaging-services';
export type { OperationId } from './openapi';
export type { RecordedRequest } from './server';
export type { InboundMessageOptions, StatusCallbackOptions, WebhookDelivery } from './webhooks';
export type { Params } from './api';
