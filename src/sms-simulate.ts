/**
 * `npm run sms:simulate`: a customer's SMS without a phone. Sends the inbound webhook Twilio would
 * send to a running instance, signed by the `twilio` SDK with the channel's Auth Token, and prints
 * the answer: the way to test a real deployment's webhook (reverse proxy, PUBLIC_BASE_URL, token).
 *
 *   npm run sms:simulate -- --to +358401234567 --from +358501234567 --body "When are you open?" \
 *     --auth-token TOKEN [--url https://sms.example.com] [--api-key sk_… | --account-sid AC…]
 *
 * With --api-key the channel that owns --to is looked up through the API (its Account SID and the
 * webhook URL it expects signatures for). The API never returns the Auth Token, so the token
 * always comes from --auth-token (the Twilio Console shows it).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { E164, WEBHOOK_PATH } from './common/sms';

export interface SimulateOptions {
  to: string;
  from: string;
  body: string;
  authToken: string;
  /** Where the instance is reached from here; default the channel's webhook URL. */
  url?: string;
  apiKey?: string;
  accountSid?: string;
  /** The URL Twilio posts to and signs (PUBLIC_BASE_URL + path); default from the channel or --url. */
  webhookUrl?: string;
}

class UsageError extends Error {}

const USAGE = `Usage: npm run sms:simulate -- --to NUMBER --from NUMBER --body TEXT --auth-token TOKEN
         [--url URL] [--api-key KEY | --account-sid SID] [--webhook-url URL]

Sends the inbound-SMS webhook Twilio would send to a running instance, signed with the Auth Token
by the twilio SDK, and prints the answer.

  --to           the channel's number (E.164, e.g. +358401234567)
  --from         the customer's number (E.164)
  --body         the text of the SMS
  --auth-token   the Twilio account's Auth Token (the API never returns it)
  --url          where the instance is reached from here, e.g. https://sms.example.com
  --api-key      looks up the channel of --to through the API (Account SID, webhook URL); needs --url
  --account-sid  the Twilio Account SID, instead of --api-key
  --webhook-url  the URL the instance checks signatures against (PUBLIC_BASE_URL + path)

Exit code 0 when the instance answers 2xx, 1 otherwise, 2 for a usage error.
`;

interface ChannelStatus {
  connected: boolean;
  accountSid: string | null;
  phoneNumber: string | null;
  webhookUrl: string;
  messagingService: { sid: string } | null;
}

async function getJson<T>(url: string, apiKey: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw new UsageError(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** The channel whose number is `to`, among the chatbots the API key sees (every page of them). */
async function findChannel(origin: string, apiKey: string, to: string): Promise<ChannelStatus> {
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const page: { items: { id: string }[]; nextCursor: string | null } = await getJson(
      `${origin}/api/chatbots?${query}`,
      apiKey,
    );
    for (const chatbot of page.items) {
      const channel = await getJson<ChannelStatus>(
        `${origin}/api/chatbots/${chatbot.id}/channels/sms`,
        apiKey,
      );
      if (channel.connected && channel.phoneNumber === to) return channel;
    }
    cursor = page.nextCursor;
  } while (cursor);
  throw new UsageError(`No chatbot of this API key has ${to} connected`);
}

export async function simulateInboundSms(
  options: SimulateOptions,
): Promise<{ status: number; body: string; signedUrl: string; messageSid: string }> {
  for (const field of ['to', 'from'] as const) {
    if (!E164.test(options[field])) {
      throw new UsageError(`--${field} must be an E.164 number such as +358401234567`);
    }
  }
  let { accountSid, webhookUrl } = options;
  let messagingServiceSid: string | undefined;
  if (options.apiKey) {
    if (!options.url) throw new UsageError('--api-key needs --url, the instance to ask');
    const channel = await findChannel(options.url.replace(/\/+$/, ''), options.apiKey, options.to);
    accountSid ??= channel.accountSid!;
    webhookUrl ??= channel.webhookUrl;
    // Twilio names the service of a number in one; without it the app logs a disagreement.
    messagingServiceSid = channel.messagingService?.sid;
  }
  if (!accountSid) throw new UsageError('Give --account-sid, or --api-key to look it up');
  webhookUrl ??= options.url && `${options.url.replace(/\/+$/, '')}${WEBHOOK_PATH}`;
  if (!webhookUrl) throw new UsageError('Give --url (the instance) or --webhook-url');
  const target = options.url ? `${options.url.replace(/\/+$/, '')}${WEBHOOK_PATH}` : webhookUrl;

  const messageSid = `SM${randomBytes(16).toString('hex')}`;
  // The parameters Twilio sends for an inbound SMS (without the optional geographic ones).
  const params: Record<string, string> = {
    SmsMessageSid: messageSid,
    NumMedia: '0',
    SmsSid: messageSid,
    SmsStatus: 'received',
    Body: options.body,
    To: options.to,
    NumSegments: '1',
    MessageSid: messageSid,
    AccountSid: accountSid,
    From: options.from,
    ApiVersion: '2010-04-01',
    ...(messagingServiceSid ? { MessagingServiceSid: messagingServiceSid } : {}),
  };
  const signature = twilio.getExpectedTwilioSignature(options.authToken, webhookUrl, params);
  const res = await fetch(target, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'user-agent': 'TwilioProxy/1.1 (sms:simulate)',
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), signedUrl: webhookUrl, messageSid };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      body: { type: 'string' },
      'auth-token': { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'account-sid': { type: 'string' },
      'webhook-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const name of ['to', 'from', 'body', 'auth-token'] as const) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  const result = await simulateInboundSms({
    to: values.to!,
    from: values.from!,
    body: values.body!,
    authToken: values['auth-token']!,
    url: values.url,
    apiKey: values['api-key'],
    accountSid: values['account-sid'],
    webhookUrl: values['webhook-url'],
  });
  process.stdout.write(
    `POST ${result.signedUrl} (signed for that URL) MessageSid=${result.messageSid}\n` +
      `HTTP ${result.status} ${result.body}\n`,
  );
  if (result.status === 403) {
    process.stdout.write(
      'Refused: wrong Auth Token, no channel connected for --to, or the instance checks signatures ' +
        'against another URL (PUBLIC_BASE_URL must be the origin Twilio posts to).\n',
    );
  }
  return result.status >= 200 && result.status < 300 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const cause =
        error instanceof Error
          ? (error.cause as { code?: string; message?: string } | undefined)
          : undefined;
      const message =
        error instanceof UsageError
          ? error.message
          : cause
            ? `could not reach the instance (${cause.code ?? cause.message}); is it running at --url?`
            : `failed: ${error instanceof Error ? error.message : String(error)}`;
      process.stderr.write(`sms:simulate: ${message}\n`);
      process.exit(2);
    },
  );
}
