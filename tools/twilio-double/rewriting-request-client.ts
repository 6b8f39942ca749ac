import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';

/**
 * The SDK's own HTTP client, with Twilio's API host swapped for a test double's
 * origin (api.twilio.com and accounts.twilio.com). Everything else (auth header, form encoding, timeouts, 429 retries)
 * stays the SDK's code, so tests exercise what production runs.
 *
 * Test-only on purpose: the app has its own client. Requests to any other
 * host throw, so a test can never reach the real Twilio by accident.
 */
export class RewritingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly targetOrigin: string,
    options?: RequestClient.RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    return super.request({ ...opts, uri: rewriteUri(opts.uri, this.targetOrigin) });
  }
}

// api.twilio.com, plus the edge/region forms the SDK builds (api.dublin.ie1.twilio.com),
// messaging.twilio.com (Messaging v1) and accounts.twilio.com (Accounts v1: Auth Token rotation);
// the double serves every document.
const TWILIO_API_ORIGIN =
  /^https:\/\/(?:api|messaging|accounts)(?:\.[a-z0-9-]+)*\.twilio\.com(?::443)?(?=\/|$)/i;

export function rewriteUri(uri: string, targetOrigin: string): string {
  if (!TWILIO_API_ORIGIN.test(uri)) {
    throw new Error(`RewritingRequestClient: refusing to send a request to ${uri}`);
  }
  return uri.replace(TWILIO_API_ORIGIN, targetOrigin.replace(/\/$/, ''));
}
