/**
 * Swagger for Twilio's two webhooks: the form parameters Twilio sends (as its docs name them),
 * with examples, so support can read what a request carries and the dashboard team what we use.
 */
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HELP_KEYWORDS, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from '../../../common/sms';

const text = (description: string, example: string): SchemaObject => ({
  type: 'string',
  description,
  example,
});

export const INBOUND_SMS_PARAMETERS: SchemaObject = {
  type: 'object',
  description:
    'Form fields of Twilio\'s "A message comes in" request; more may come and are ignored.',
  required: ['MessageSid', 'AccountSid', 'From', 'To'],
  properties: {
    MessageSid: text(
      'Unique per message; the same SID twice is stored and answered once',
      'SM0123456789abcdef0123456789abcdef',
    ),
    AccountSid: text(
      "The Twilio account; must be the connected channel's",
      'AC0123456789abcdef0123456789abcdef',
    ),
    From: text(
      "Who texted, as Twilio signed it: the customer's number (E.164), or a short code or alphanumeric sender ID. Always stored (the conversation's customer number); only an E.164 number other than the channel's own is ever texted back",
      '+358501234567',
    ),
    To: text(
      'The connected Twilio number, E.164; selects the channel and its Auth Token',
      '+358401234567',
    ),
    MessagingServiceSid: text(
      "The Messaging Service the number is in, when it is in one. Never used to find the channel (AccountSid + To do); one other than the channel's stored service is logged (the number moved) and the message still stored",
      'MG0123456789abcdef0123456789abcdef',
    ),
    Body: text(
      `The text; at most 1,600 characters. The keyword alone (any case, trailing punctuation allowed) opts out (${OPT_OUT_KEYWORDS.join(', ')}), opts back in (${OPT_IN_KEYWORDS.join(', ')}) or asks for help (${HELP_KEYWORDS.join(', ')}); none of them gets an AI reply`,
      'When are you open?',
    ),
    NumMedia: text('Attachments; MMS is not supported, they are counted as dropped', '0'),
    MediaUrl0: text(
      'First attachment (never fetched)',
      'https://api.twilio.com/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…',
    ),
    NumSegments: text('SMS segments of the inbound message', '1'),
    OptOutType: text(
      "STOP, START or HELP when Twilio's Advanced Opt-Out recognised a keyword (its own list, possibly customised); it wins over the body",
      'STOP',
    ),
    SmsStatus: text('Always "received" here', 'received'),
    ApiVersion: text('Twilio API version', '2010-04-01'),
  },
};

export const STATUS_CALLBACK_PARAMETERS: SchemaObject = {
  type: 'object',
  description:
    "Form fields of Twilio's status callback for a message we sent; may arrive late, twice or out of order.",
  required: ['MessageSid', 'MessageStatus', 'AccountSid', 'From'],
  properties: {
    MessageSid: text('The SID Twilio gave our reply', 'SM0123456789abcdef0123456789abcdef'),
    MessageStatus: {
      type: 'string',
      enum: ['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'canceled'],
      example: 'delivered',
      description: 'The delivery state; a message never moves backwards',
    },
    ErrorCode: text('Twilio error code when undelivered or failed; shown in the inbox', '30003'),
    AccountSid: text("The channel's Twilio account", 'AC0123456789abcdef0123456789abcdef'),
    From: text('The connected number (it sent the reply); selects the channel', '+358401234567'),
    To: text("The customer's number", '+358501234567'),
    ApiVersion: text('Twilio API version', '2010-04-01'),
  },
};

/** Named in the webhooks' document (components.schemas), so generators give them a type name. */
export const WEBHOOK_SCHEMAS: Record<string, SchemaObject> = {
  TwilioInboundSms: INBOUND_SMS_PARAMETERS,
  TwilioStatusCallback: STATUS_CALLBACK_PARAMETERS,
};
