import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import RestException from 'twilio/lib/base/RestException';
import type { MetricsService } from '../../../common/metrics/metrics.service';
import { toTwilioApiError } from './twilio-api.error';

/** The origins the SDK builds for the APIs we call (no edge or region is configured). */
const TWILIO_API_ORIGIN = 'https://api.twilio.com';
const TWILIO_MESSAGING_ORIGIN = 'https://messaging.twilio.com';

/** The endpoints we call, as metric labels: a closed set, never a SID from the path. */
const ENDPOINTS: [method: string, path: RegExp, endpoint: string][] = [
  ['GET', /\/Accounts\/[^/]+\.json$/, 'accounts.fetch'],
  ['GET', /\/IncomingPhoneNumbers\.json$/, 'incoming_phone_numbers.list'],
  ['GET', /\/IncomingPhoneNumbers\/[^/]+\.json$/, 'incoming_phone_numbers.fetch'],
  ['POST', /\/IncomingPhoneNumbers\/[^/]+\.json$/, 'incoming_phone_numbers.update'],
  ['POST', /\/Messages\.json$/, 'messages.create'],
  ['GET', /\/Messages\.json$/, 'messages.list'],
  ['GET', /\/v1\/Services$/, 'messaging_services.list'],
  ['GET', /\/v1\/Services\/[^/]+$/, 'messaging_services.fetch'],
  ['POST', /\/v1\/Services\/[^/]+$/, 'messaging_services.update'],
  ['GET', /\/v1\/Services\/[^/]+\/PhoneNumbers$/, 'messaging_service_numbers.list'],
  ['GET', /\/v1\/Services\/[^/]+\/PhoneNumbers\/[^/]+$/, 'messaging_service_numbers.fetch'],
];

export function twilioEndpoint(method: string, uri: string): string {
  const path = uri.split('?')[0];
  const verb = method.toUpperCase();
  return ENDPOINTS.find(([m, pattern]) => m === verb && pattern.test(path))?.[2] ?? 'other';
}

/**
 * Twilio's clock, as the `Date` header of its latest answer tells it, carried forward on our
 * monotonic clock. It is a lower bound of Twilio's time now: the header has whole seconds, and the
 * answer left Twilio before we read it. Lets us compare our own elapsed times with the dates
 * Twilio renders (`date_created`) without trusting our wall clock to agree with Twilio's.
 */
export class TwilioClock {
  private seen: { date: number; at: number } | null = null;

  observe(dateHeader: unknown): void {
    const date = typeof dateHeader === 'string' ? Date.parse(dateHeader) : Number.NaN;
    if (Number.isFinite(date)) this.seen = { date, at: performance.now() };
  }

  /** Twilio's time now, at least; null before Twilio answered anything with a Date. */
  now(): number | null {
    return this.seen && this.seen.date + (performance.now() - this.seen.at);
  }
}

/**
 * The SDK's own RequestClient, with the API origins swapped for TWILIO_API_BASE_URL and
 * TWILIO_MESSAGING_API_BASE_URL (the Twilio test double in tests, a proxy in some deployments)
 * and an explicit timeout. The SDK's automatic
 * 429 retry stays off: our reply jobs own retrying, so a send is never repeated behind our back.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  readonly clock = new TwilioClock();

  private readonly origins: [string, string][];

  constructor(
    origins: { apiBaseUrl: string; messagingApiBaseUrl: string },
    timeoutMs: number,
    private readonly metrics?: Pick<MetricsService, 'twilioCall'>,
  ) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
    this.origins = [
      [TWILIO_API_ORIGIN, origins.apiBaseUrl],
      [TWILIO_MESSAGING_ORIGIN, origins.messagingApiBaseUrl],
    ];
  }

  async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri = this.rewrite(opts.uri);
    const endpoint = twilioEndpoint(String(opts.method), opts.uri);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1_000;
    let response: Response<TData>;
    try {
      response = await super.request<TData>({ ...opts, uri });
    } catch (error) {
      this.metrics?.twilioCall(endpoint, 'error', seconds());
      throw error;
    }
    this.metrics?.twilioCall(endpoint, response.statusCode, seconds());
    this.clock.observe(response.headers?.date);
    // The SDK's RestException drops the headers; keep Retry-After so the retry can honour it.
    const retryAfter = Number.parseInt(String(response.headers?.['retry-after'] ?? ''), 10);
    if (response.statusCode >= 400 && Number.isFinite(retryAfter)) {
      throw toTwilioApiError(new RestException(response), retryAfter);
    }
    return response;
  }

  private rewrite(uri: string): string {
    for (const [origin, target] of this.origins) {
      if (uri === origin || uri.startsWith(`${origin}/`)) return target + uri.slice(origin.length);
    }
    return uri;
  }
}
