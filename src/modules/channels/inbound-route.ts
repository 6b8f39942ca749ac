/**
 * Where Twilio posts a number's inbound messages, decided once: the number's SmsUrl, or its
 * Messaging Service's InboundRequestUrl when the service does not defer to its numbers. Connect,
 * the health check and the repair all judge and set the inbound URL through these functions.
 */
import { Errors } from '../../common/errors/errors';
import type { TwilioIncomingNumber, TwilioMessagingServicePool } from '../twilio-sms';
import type { ConfigureWebhook } from './dto/sms-channel.dto';
import type { InboundHealth, InboundWebhookOn } from './sms-channel.entity';

/** The inbound URL Twilio uses for a number, where it is set, and what it holds now. */
export interface InboundWebhook {
  on: InboundWebhookOn;
  url: string | null;
  method: string | null;
}

/**
 * Where Twilio reads the inbound URL of a number, as its routing rule says: a number in a service
 * that does not defer to its numbers (`use_inbound_webhook_on_number: false`) gets its messages
 * posted to the service's URL, and its own SmsUrl is ignored; otherwise the number's SmsUrl.
 */
export function inboundWebhookOf(
  number: TwilioIncomingNumber,
  pool: TwilioMessagingServicePool | null,
): InboundWebhook {
  if (pool && !pool.service.useInboundWebhookOnNumber) {
    return {
      on: 'service',
      url: pool.service.inboundRequestUrl,
      method: pool.service.inboundMethod,
    };
  }
  return { on: 'number', url: number.smsUrl, method: number.smsMethod };
}

/**
 * A service that already sends other numbers' messages somewhere else is not taken over unless
 * the customer says so (`configureWebhook: 'service'`): pointing it at us would take those
 * numbers' messages away from wherever they go now.
 */
export function assertMayConfigure(
  inbound: InboundWebhook,
  pool: TwilioMessagingServicePool | null,
  number: TwilioIncomingNumber,
  webhookUrl: string,
  configureWebhook: ConfigureWebhook | undefined,
): void {
  if (configureWebhook !== true || inbound.on !== 'service' || !pool) return;
  if (!inbound.url || inbound.url === webhookUrl) return;
  const others = pool.phoneNumberSids.filter((sid) => sid !== number.sid).length;
  if (others === 0) return;
  throw Errors.messagingServiceInUse(pool.service.friendlyName, others, inbound.url);
}

/** Where the inbound URL Twilio uses points: at our webhook, elsewhere, or nowhere. */
export function inboundRouteOf(
  url: string | null,
  webhookUrl: string,
): { inbound: InboundHealth; inboundUrl: string | null } {
  if (!url) return { inbound: 'unset', inboundUrl: null };
  return { inbound: url === webhookUrl ? 'ours' : 'elsewhere', inboundUrl: url };
}
