import http from 'node:http';
import { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type { AccountCredentials } from './accounts';
import { RewritingRequestClient } from './rewriting-request-client';
import { TwilioDouble } from './twilio-double';

/**
 * The double's own specs: one double per spec file, reset before each test to one account with
 * one number, driven by the real `twilio` SDK (through RewritingRequestClient) or by raw requests
 * for what the SDK will not send. `useTwilioDouble()` registers the hooks; `double`, `account`
 * and `numberSid` are the current test's (ES module bindings, reassigned by the hooks).
 */

export const NUMBER = '+358401234567';
export const OTHER_NUMBER = '+358409999999';
export const CUSTOMER = '+358501112233';

export let double: TwilioDouble;
export let account: AccountCredentials;
export let numberSid: string;

export function useTwilioDouble(): void {
  beforeAll(async () => {
    double = await TwilioDouble.start();
  });
  afterAll(async () => {
    await double.stop();
  });
  beforeEach(() => {
    double.reset();
    account = double.addAccount({ friendlyName: 'Customer A' });
    numberSid = double.addNumber(account.sid, { phoneNumber: NUMBER }).sid;
  });
}

export const client = (
  creds: AccountCredentials = account,
  options?: ConstructorParameters<typeof RewritingRequestClient>[1],
) => {
  const httpClient = new RewritingRequestClient(double.url, options);
  return { api: twilio(creds.sid, creds.authToken, { httpClient }), httpClient };
};

/** Raw request, for what the SDK will not send (unknown parameters, missing To). */
export const raw = async (
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string> = {},
  creds: AccountCredentials = account,
) => {
  const encoded = new URLSearchParams(params).toString();
  const res = await fetch(
    `${double.url}/2010-04-01/Accounts/${creds.sid}${path}${method === 'GET' && encoded ? `?${encoded}` : ''}`,
    {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`${creds.sid}:${creds.authToken}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: method === 'POST' ? encoded : undefined,
    },
  );
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
};

export const send = (body = 'Hello from the bot') =>
  client().api.messages.create({
    to: CUSTOMER,
    from: NUMBER,
    body,
    statusCallback: 'https://app.example.com/twilio/status',
  });

export interface ReceivedWebhook {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A local HTTP server standing in for the app's webhook endpoints: it answers `<Response/>` and
 * keeps what it received (emptied before each test). `receiver.url` is its origin.
 */
export function useWebhookReceiver(): { url: string; received: ReceivedWebhook[] } {
  const receiver = { url: '', received: [] as ReceivedWebhook[] };
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        receiver.received.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'text/xml' });
        res.end('<Response/>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    receiver.received.length = 0;
  });
  return receiver;
}
