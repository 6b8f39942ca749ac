/**
 * Signed inbound-SMS webhooks exactly as Twilio sends them: the same form fields as the Twilio
 * test double's sendInboundMessage, signed with the channel's Auth Token over the public URL.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

export const WEBHOOK_PATH = '/api/webhooks/twilio/sms';

/** A Twilio number connected to a chatbot, with the account that owns it. */
export interface Sender {
  accountSid: string;
  authToken: string;
  phoneNumber: string;
}

export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  messageSid: string;
}

// Unique across runs and phases: a random prefix per process plus a counter.
const SID_PREFIX = randomBytes(8).toString('hex');
let sidCounter = 0;

export const nextMessageSid = (): string =>
  `SM${SID_PREFIX}${(sidCounter++).toString(16).padStart(16, '0')}`;

// Three random digits per run keep numbers unique when a database is reused between runs.
const RUN = String(Math.floor(Math.random() * 1000)).padStart(3, '0');

/**
 * E.164 numbers (14 digits) in disjoint ranges, so a reply can always be traced to the phase that
 * caused it: channels +1444…, throughput customers +1555…, tracked (end-to-end) customers +1666…,
 * inbox fixtures +1777…, history customers +1888….
 */
export const numberIn = (range: 444 | 555 | 666 | 777 | 888, index: number): string =>
  `+1${range}${RUN}${String(index).padStart(7, '0')}`;

let trackedCounter = 0;
/** A customer number never used before in this run (its replies are counted). */
export const freshTrackedCustomer = (): string => numberIn(666, trackedCounter++);

export const QUESTIONS = [
  'Hi, what are your opening hours on Saturday?',
  'How do I reset my password?',
  'Do you ship to Finland and how long does it take?',
  'Can I return a product after 30 days?',
  'Where is my order? It has not arrived yet.',
];

/**
 * One inbound SMS from `from` to the sender's number, signed for `signedBaseUrl + WEBHOOK_PATH`
 * (the URL the server validates against; for the app that is PUBLIC_BASE_URL).
 */
export function signedInbound(
  signedBaseUrl: string,
  sender: Sender,
  from: string,
  text: string,
): SignedRequest {
  const messageSid = nextMessageSid();
  const params: Record<string, string> = {
    SmsMessageSid: messageSid,
    NumMedia: '0',
    SmsSid: messageSid,
    SmsStatus: 'received',
    Body: text,
    To: sender.phoneNumber,
    NumSegments: '1',
    MessageSid: messageSid,
    AccountSid: sender.accountSid,
    From: from,
    ApiVersion: '2010-04-01',
  };
  const signature = twilio.getExpectedTwilioSignature(
    sender.authToken,
    signedBaseUrl + WEBHOOK_PATH,
    params,
  );
  return {
    path: WEBHOOK_PATH,
    messageSid,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'user-agent': 'TwilioProxy/1.1',
    },
    body: new URLSearchParams(params).toString(),
  };
}
