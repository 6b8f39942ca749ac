/**
 * The webhooks Twilio sends: an inbound SMS to the URL Twilio would use for the number (its
 * SmsUrl, or its Messaging Service's inbound URL, see MessagingServices.inboundRoute) and a message's status
 * callback, signed with the account's Auth Token by the `twilio` SDK's own signature function
 * over the exact URL they are sent to.
 */
import twilio from 'twilio';
import { API_VERSION, randomSid } from './api';
import type { Accounts } from './accounts';
import type { IncomingPhoneNumbers } from './incoming-phone-numbers';
import type { Messages, MessageStatus } from './messages';
import type { MessagingServices } from './messaging-services';
import { countSegments } from './segments';

export interface WebhookDelivery {
  status: number;
  body: string;
  /** The answer's headers, lower-case names. */
  headers: Record<string, string>;
  /** The parameters sent (and signed). */
  params: Record<string, string>;
  signature: string;
}

export interface InboundMessageOptions {
  /** A number added with addNumber; its account signs the request. */
  to: string;
  from: string;
  body: string;
  /** Extra parameters, e.g. { OptOutType: 'STOP', FromCity: 'HELSINKI' }. */
  extra?: Record<string, string>;
  /**
   * URL to sign; default the one Twilio would use: the number's sms_url, or its Messaging
   * Service's inbound_request_url when the service does not defer to its numbers.
   */
  url?: string;
  /**
   * Where to actually send it, when the signed (public) URL is not reachable from tests. Without
   * a query string of its own it gets the signed URL's: Twilio requests the exact URL it signed.
   */
  deliverTo?: string;
}

export interface StatusCallbackOptions {
  errorCode?: number;
  /** URL to sign; default the message's StatusCallback (query string included). */
  url?: string;
  /** As InboundMessageOptions.deliverTo. */
  deliverTo?: string;
}

export class Webhooks {
  constructor(
    private readonly accounts: Accounts,
    private readonly numbers: IncomingPhoneNumbers,
    private readonly messages: Messages,
    private readonly services: MessagingServices,
  ) {}

  async sendInboundMessage(options: InboundMessageOptions): Promise<WebhookDelivery> {
    const number = this.numbers.find(options.to);
    if (!number) throw new Error(`${options.to} was not added with addNumber`);
    const account = this.accounts.require(number.account_sid);
    const route = this.services.inboundRoute(number);
    const url = options.url ?? route?.url;
    if (!url) {
      throw new Error(
        `${options.to} has no inbound URL Twilio would use (its sms_url, or its Messaging Service's inbound_request_url) and no url was given`,
      );
    }
    const serviceSid = this.services.serviceOf(number.sid)?.sid;
    const sid = randomSid('SM');
    const params: Record<string, string> = {
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: options.body,
      To: options.to,
      NumSegments: String(countSegments(options.body).segments),
      MessageSid: sid,
      AccountSid: account.sid,
      From: options.from,
      ApiVersion: API_VERSION,
      ...(serviceSid ? { MessagingServiceSid: serviceSid } : {}),
      ...options.extra,
    };
    const method = options.url ? number.sms_method : (route?.method ?? 'POST');
    return deliver(account.authToken, url, method, params, options.deliverTo);
  }

  async sendStatusCallback(
    messageSid: string,
    status: MessageStatus,
    options: StatusCallbackOptions = {},
  ): Promise<WebhookDelivery> {
    const message = this.messages.setStatus(messageSid, status, options.errorCode);
    const url = options.url ?? message.statusCallback;
    if (!url) throw new Error(`Message ${messageSid} has no StatusCallback and no url was given`);
    const account = this.accounts.require(message.accountSid);
    const params: Record<string, string> = {
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: status,
      SmsStatus: status,
      AccountSid: message.accountSid,
      To: message.to,
      ApiVersion: API_VERSION,
    };
    if (message.from) params.From = message.from;
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    if (options.errorCode !== undefined) params.ErrorCode = String(options.errorCode);
    return deliver(account.authToken, url, 'POST', params, options.deliverTo);
  }
}

async function deliver(
  authToken: string,
  url: string,
  method: string,
  params: Record<string, string>,
  deliverTo?: string,
): Promise<WebhookDelivery> {
  // For GET, parameters travel in the query string and are part of the signed URL.
  const signedUrl = method === 'GET' ? appendQuery(url, params) : url;
  const signature = twilio.getExpectedTwilioSignature(
    authToken,
    signedUrl,
    method === 'GET' ? {} : params,
  );
  const target = deliverTo ? withQueryOf(deliverTo, signedUrl) : signedUrl;
  const response = await fetch(target, {
    method,
    headers: {
      'X-Twilio-Signature': signature,
      'User-Agent': 'TwilioProxy/1.1',
      ...(method === 'GET' ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
    },
    body: method === 'GET' ? undefined : new URLSearchParams(params).toString(),
  });
  return {
    status: response.status,
    body: await response.text(),
    headers: Object.fromEntries(response.headers),
    params,
    signature,
  };
}

/** `target`, with `signed`'s query string unless it has one of its own. */
function withQueryOf(target: string, signed: string): string {
  const u = new URL(target);
  if (!u.search) u.search = new URL(signed).search;
  return u.toString();
}

function appendQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.toString();
}
