/**
 * Everything we ask of Twilio's REST API, through the official SDK, in our own types. One shared
 * RequestClient (keep-alive agent, timeout, TWILIO_API_BASE_URL) serves every customer account;
 * a client is just that plus the account's credentials, so it is cheap to build per call.
 */
import { Inject, Injectable } from '@nestjs/common';
import twilio from 'twilio';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { Secret } from '../../crypto/secret';
import { toTwilioApiError } from './twilio-api.error';
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

export interface OutboundSms {
  to: string;
  from: string;
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
      config.twilioApiBaseUrl,
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

  /** Points "A message comes in" at `smsUrl` (POST); an empty string clears it. */
  async updateSmsUrl(
    credentials: TwilioCredentials,
    numberSid: string,
    smsUrl: string,
  ): Promise<TwilioIncomingNumber> {
    const number = await this.call(credentials, (client) =>
      client.incomingPhoneNumbers(numberSid).update({ smsUrl, smsMethod: 'POST' }),
    );
    return toIncomingNumber(number);
  }

  async createMessage(credentials: TwilioCredentials, sms: OutboundSms): Promise<TwilioMessageRef> {
    const message = await this.call(credentials, (client) =>
      client.messages.create({
        to: sms.to,
        from: sms.from,
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
