/**
 * Everything we ask of Twilio's REST APIs (v2010, and Messaging v1 for Messaging Services),
 * through the official SDK, in our own types. One shared RequestClient (keep-alive agent, timeout,
 * TWILIO_API_BASE_URL and TWILIO_MESSAGING_API_BASE_URL) serves every customer account;
 * a client is just that plus the account's credentials, so it is cheap to build per call.
 */
import { Inject, Injectable } from '@nestjs/common';
import twilio from 'twilio';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { Secret } from '../../../common/secret';
import { TwilioApiError, toTwilioApiError } from './twilio-api.error';
import { TwilioRequestClient } from './twilio-request-client';

export interface TwilioCredentials {
  accountSid: string;
  authToken: Secret;
}

export interface TwilioAccount {
  sid: string;
  status: string;
  type: string;
}

export interface TwilioIncomingNumber {
  sid: string;
  phoneNumber: string;
  smsCapable: boolean;
  smsUrl: string | null;
  smsMethod: string | null;
}

/** A Messaging Service, as far as routing inbound messages and sending through it goes. */
export interface TwilioMessagingService {
  sid: string;
  friendlyName: string;
  /** The service's own inbound URL (used unless it defers to its numbers); null when unset. */
  inboundRequestUrl: string | null;
  inboundMethod: string | null;
  /** True: the number's own SmsUrl is used; false: inboundRequestUrl is, and SmsUrl is ignored. */
  useInboundWebhookOnNumber: boolean;
  usA2pRegistered: boolean;
}

/** A service and the PN SIDs of its sender pool. */
export interface TwilioMessagingServicePool {
  service: TwilioMessagingService;
  phoneNumberSids: string[];
}

export interface OutboundSms {
  to: string;
  from: string;
  /** The channel's Messaging Service: sent with From, so its campaign and features apply. */
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string;
}

export interface TwilioMessageRef {
  sid: string;
  status: string;
}

/** How long ago, on a clock we trust for intervals (the database's), we first tried a send. */
export interface SinceAttempt {
  ms: number;
  /** performance.now() just before `ms` was read. */
  measuredAt: number;
}

/** date_created has whole seconds; a little more for the database's own rounding. */
const DATE_CREATED_SLACK_MS = 2_000;

@Injectable()
export class TwilioRestAdapter {
  private readonly httpClient: TwilioRequestClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: MetricsService) {
    this.httpClient = new TwilioRequestClient(
      {
        apiBaseUrl: config.twilioApiBaseUrl,
        messagingApiBaseUrl: config.twilioMessagingApiBaseUrl,
      },
      config.twilioTimeoutMs,
      metrics,
    );
  }

  async fetchAccount(credentials: TwilioCredentials): Promise<TwilioAccount> {
    const account = await this.call(credentials, (client) =>
      client.api.v2010.accounts(credentials.accountSid).fetch(),
    );
    return { sid: account.sid, status: account.status, type: account.type };
  }

  async findIncomingNumber(
    credentials: TwilioCredentials,
    phoneNumber: string,
  ): Promise<TwilioIncomingNumber | null> {
    const [number] = await this.call(credentials, (client) =>
      client.incomingPhoneNumbers.list({ phoneNumber, limit: 1 }),
    );
    return number ? toIncomingNumber(number) : null;
  }

  async fetchIncomingNumber(
    credentials: TwilioCredentials,
    numberSid: string,
  ): Promise<TwilioIncomingNumber> {
    return toIncomingNumber(
      await this.call(credentials, (client) => client.incomingPhoneNumbers(numberSid).fetch()),
    );
  }

  /** Points "A message comes in" at `smsUrl` (POST by default); an empty string clears it. */
  async updateSmsUrl(
    credentials: TwilioCredentials,
    numberSid: string,
    smsUrl: string,
    smsMethod = 'POST',
  ): Promise<TwilioIncomingNumber> {
    const number = await this.call(credentials, (client) =>
      client.incomingPhoneNumbers(numberSid).update({ smsUrl, smsMethod: smsMethod as 'POST' }),
    );
    return toIncomingNumber(number);
  }

  /**
   * The Messaging Service whose sender pool holds the number (a number is in one at most), or
   * null: lists the account's services and each one's PhoneNumbers until it is found.
   */
  async findMessagingServiceOf(
    credentials: TwilioCredentials,
    numberSid: string,
  ): Promise<TwilioMessagingServicePool | null> {
    const services = await this.call(credentials, (client) => client.messaging.v1.services.list());
    for (const service of services) {
      const phoneNumberSids = await this.listServiceNumberSids(credentials, service.sid);
      if (phoneNumberSids.includes(numberSid)) {
        return { service: toMessagingService(service), phoneNumberSids };
      }
    }
    return null;
  }

  /** The service and its sender pool; null when the account has no such service (404). */
  async fetchMessagingService(
    credentials: TwilioCredentials,
    serviceSid: string,
  ): Promise<TwilioMessagingServicePool | null> {
    try {
      const service = await this.call(credentials, (client) =>
        client.messaging.v1.services(serviceSid).fetch(),
      );
      const phoneNumberSids = await this.listServiceNumberSids(credentials, serviceSid);
      return { service: toMessagingService(service), phoneNumberSids };
    } catch (error) {
      if (error instanceof TwilioApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Points the service's inbound messages at `url` with `method`; an empty URL clears it. */
  async updateServiceInboundUrl(
    credentials: TwilioCredentials,
    serviceSid: string,
    url: string,
    method: string,
  ): Promise<TwilioMessagingService> {
    const service = await this.call(credentials, (client) =>
      client.messaging.v1
        .services(serviceSid)
        .update({ inboundRequestUrl: url, inboundMethod: method as 'POST' }),
    );
    return toMessagingService(service);
  }

  async createMessage(credentials: TwilioCredentials, sms: OutboundSms): Promise<TwilioMessageRef> {
    const message = await this.call(credentials, (client) =>
      client.messages.create({
        to: sms.to,
        from: sms.from,
        ...(sms.messagingServiceSid ? { messagingServiceSid: sms.messagingServiceSid } : {}),
        body: sms.body,
        statusCallback: sms.statusCallback,
      }),
    );
    return { sid: message.sid, status: message.status };
  }

  /**
   * After an ambiguous failure (timeout, reset): did Twilio create the message anyway? Looks for a
   * message from→to with the same body that Twilio created after our first attempt. The attempt's
   * time is translated into Twilio's clock (its answers' Date header, less the time elapsed since
   * the attempt), so no two clocks need to agree; only date_created's whole seconds need slack.
   */
  async findSentMessage(
    credentials: TwilioCredentials,
    sms: OutboundSms,
    sinceAttempt: SinceAttempt,
    excludeSids: (sids: string[]) => Promise<Set<string>> = async () => new Set(),
  ): Promise<TwilioMessageRef | null> {
    // No DateSent filter: a message still queued has no date_sent yet. Twilio lists newest first.
    const messages = await this.call(credentials, (client) =>
      client.messages.list({ to: sms.to, from: sms.from, limit: 20 }),
    );
    // Without a Date header (never seen from Twilio) our own clock is the best guess.
    const twilioNow = this.httpClient.clock.now() ?? Date.now();
    const elapsed = sinceAttempt.ms + (performance.now() - sinceAttempt.measuredAt);
    const earliest = twilioNow - elapsed - DATE_CREATED_SLACK_MS;
    const candidates = messages.filter(
      (message) => message.body === sms.body && message.dateCreated.getTime() >= earliest,
    );
    const taken = await excludeSids(candidates.map((message) => message.sid));
    // Oldest unclaimed first: an identical earlier reply already belongs to another row.
    const match = candidates.reverse().find((message) => !taken.has(message.sid));
    return match ? { sid: match.sid, status: match.status } : null;
  }

  private async listServiceNumberSids(
    credentials: TwilioCredentials,
    serviceSid: string,
  ): Promise<string[]> {
    const numbers = await this.call(credentials, (client) =>
      client.messaging.v1.services(serviceSid).phoneNumbers.list(),
    );
    return numbers.map((number) => number.sid);
  }

  private async call<T>(
    credentials: TwilioCredentials,
    action: (client: twilio.Twilio) => Promise<T>,
  ): Promise<T> {
    const client = twilio(credentials.accountSid, credentials.authToken.reveal(), {
      httpClient: this.httpClient,
    });
    try {
      return await action(client);
    } catch (error) {
      throw toTwilioApiError(error);
    }
  }
}

function toMessagingService(service: {
  sid: string;
  friendlyName: string;
  inboundRequestUrl: string | null;
  inboundMethod: string | null;
  useInboundWebhookOnNumber: boolean | null;
  usAppToPersonRegistered: boolean | null;
}): TwilioMessagingService {
  return {
    sid: service.sid,
    friendlyName: service.friendlyName,
    inboundRequestUrl: service.inboundRequestUrl || null,
    inboundMethod: service.inboundMethod || null,
    useInboundWebhookOnNumber: Boolean(service.useInboundWebhookOnNumber),
    usA2pRegistered: Boolean(service.usAppToPersonRegistered),
  };
}

function toIncomingNumber(number: {
  sid: string;
  phoneNumber: string;
  capabilities: { sms?: boolean } | null;
  smsUrl: string | null;
  smsMethod: string | null;
}): TwilioIncomingNumber {
  return {
    sid: number.sid,
    phoneNumber: number.phoneNumber,
    smsCapable: Boolean(number.capabilities?.sms),
    smsUrl: number.smsUrl || null,
    smsMethod: number.smsMethod || null,
  };
}
