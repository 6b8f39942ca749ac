import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';

const TWILIO_ORIGIN = 'https://api.twilio.com';

/**
 * The SDK's own RequestClient, with the API origin swapped for TWILIO_API_BASE_URL (the Twilio
 * test double in tests, a proxy in some deployments) and an explicit timeout. The SDK's automatic
 * 429 retry stays off: our reply jobs own retrying, so a send is never repeated behind our back.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiBaseUrl: string,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
  }

  request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri =
      this.apiBaseUrl === TWILIO_ORIGIN
        ? opts.uri
        : opts.uri.replace(TWILIO_ORIGIN, this.apiBaseUrl);
    return super.request<TData>({ ...opts, uri });
  }
}
