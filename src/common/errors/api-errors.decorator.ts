/**
 * Swagger for error responses in one place: `@ApiErrors('NOT_FOUND', …)` documents each code under
 * its HTTP status (from ERROR_STATUS) with the contract's error shape and an example per code, so
 * the dashboard sees every `code` an endpoint can answer.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { JSON_ONLY_MESSAGE } from './body-error.middleware';
import { ERROR_STATUS, ErrorBody, ErrorCode } from './error-codes';
import { ErrorResponse } from './error-response.dto';

/** A typical message per code (the contract's exact words where it fixes them). */
export const ERROR_EXAMPLES: Record<ErrorCode, Omit<ErrorBody, 'statusCode' | 'code'>> = {
  VALIDATION_FAILED: {
    message: 'Request validation failed',
    details: [
      { field: 'phoneNumber', message: 'phoneNumber must be in E.164 format, e.g. +358401234567' },
    ],
  },
  MALFORMED_BODY: { message: 'Request body is not valid JSON' },
  UNAUTHORIZED: { message: 'A valid API key is required (Authorization: Bearer <key>)' },
  PLAN_UPGRADE_REQUIRED: {
    message: 'The SMS channel needs the Starter plan or above; this organization is on free',
  },
  TWILIO_SIGNATURE_INVALID: { message: 'Twilio signature missing or invalid' },
  NOT_FOUND: { message: 'Chatbot not found' },
  NUMBER_ALREADY_CONNECTED: {
    message: 'This number is already connected to another chatbot; disconnect it there first',
  },
  CHANNEL_NOT_CONNECTED: {
    message:
      "This conversation's SMS number is no longer connected; reconnect the SMS channel to reply",
  },
  CONTACT_OPTED_OUT: {
    message:
      'This customer opted out of SMS from this number (replied STOP); they can be texted again after they send START',
  },
  CONTACT_NOT_REPLYABLE: {
    message:
      "This sender can't be texted back: it is a short code, an alphanumeric sender ID or this channel's own number",
  },
  MESSAGING_SERVICE_IN_USE: {
    message:
      'The Messaging Service "Support" sends the inbound messages of 2 other numbers to https://crm.example.com/sms; set "Incoming Messages" to "Defer to sender\'s webhook" in its Integration settings in the Twilio Console (each number then uses its own "A message comes in" URL, and we set only this one\'s), or connect with configureWebhook: "service" to point the whole service at us',
  },
  TWILIO_NUMBER_GONE: {
    message:
      '+358401234567 is no longer on this Twilio account; connect it again (or another number)',
  },
  IDEMPOTENCY_KEY_IN_PROGRESS: {
    message: 'A request with this Idempotency-Key is still running; retry when it has finished',
  },
  IDEMPOTENCY_KEY_REUSED: {
    message: 'This Idempotency-Key was used with another request; use a new key for a new request',
  },
  PAYLOAD_TOO_LARGE: { message: 'Request body is too large' },
  HEADERS_TOO_LARGE: { message: 'Request line or headers are too large' },
  UNSUPPORTED_MEDIA_TYPE: { message: JSON_ONLY_MESSAGE },
  TWILIO_CREDENTIALS_REJECTED: { message: 'Twilio rejected the credentials' },
  TWILIO_NUMBER_NOT_OWNED: {
    message: "The phone number you entered doesn't belong to this Twilio account",
  },
  TWILIO_NUMBER_NOT_SMS_CAPABLE: { message: 'This Twilio number cannot send or receive SMS' },
  TWILIO_ACCOUNT_NOT_ACTIVE: {
    message: 'This Twilio account is suspended; reactivate it in the Twilio Console first',
  },
  TWILIO_REQUEST_REJECTED: {
    message: 'Twilio refused the request: 21606 The From phone number is not a valid SMS number',
  },
  TWILIO_MESSAGING_SERVICE_NOT_FOUND: {
    message: "The Messaging Service you entered doesn't belong to this Twilio account",
  },
  TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE: {
    message: "The phone number isn't in that Messaging Service",
  },
  RATE_LIMITED: { message: 'Too many requests, slow down' },
  INTERNAL_ERROR: { message: 'Internal server error' },
  AGENT_UNAVAILABLE: { message: "The chatbot's AI agent couldn't answer right now, try again" },
  TWILIO_UNREACHABLE: { message: "Couldn't reach Twilio right now" },
  SERVICE_UNAVAILABLE: { message: 'Service temporarily unavailable, try again' },
};

/** What every dashboard endpoint can answer besides its own errors. */
export const DASHBOARD_ERRORS: ErrorCode[] = [
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
];
/** What a JSON body can add (parsing and validation happen before the handler). */
export const JSON_BODY_ERRORS: ErrorCode[] = [
  'VALIDATION_FAILED',
  'MALFORMED_BODY',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

export function errorExample(code: ErrorCode): ErrorBody {
  return { statusCode: ERROR_STATUS[code], code, ...ERROR_EXAMPLES[code] };
}

const RETRY_AFTER = {
  description: 'Seconds to wait before trying again',
  schema: { type: 'integer', minimum: 1, example: 12 },
};

/** The headers @nestjs/throttler sends with the dashboard's per-key budget (throttler `default`). */
const RATE_LIMIT_HEADERS = {
  'Retry-After': RETRY_AFTER,
  'X-RateLimit-Limit': {
    description: 'Requests per minute this API key may make (API_RATE_LIMIT_PER_MINUTE)',
    schema: { type: 'integer', minimum: 1, example: 600 },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer', minimum: 0, example: 0 },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the window has room again',
    schema: { type: 'integer', minimum: 0, example: 12 },
  },
};

function errorResponses(codes: ErrorCode[], dashboard: boolean): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ApiExtraModels(ErrorResponse),
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        ...(status === 429
          ? { headers: dashboard ? RATE_LIMIT_HEADERS : { 'Retry-After': RETRY_AFTER } }
          : {}),
        // Swagger renders descriptions as markdown: "<key>" would vanish as an HTML tag.
        description: group
          .map((code) => `\`${code}\`: ${ERROR_EXAMPLES[code].message.replace(/</g, '&lt;')}`)
          .join('; '),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(ErrorResponse) },
            examples: Object.fromEntries(
              group.map((code) => [code, { summary: code, value: errorExample(code) }]),
            ),
          },
        },
      }),
    ),
  );
}

/** Errors of a route without an API key (health, webhooks): a 429 carries Retry-After only. */
export const ApiErrors = (...codes: ErrorCode[]): MethodDecorator & ClassDecorator =>
  errorResponses(codes, false);

/**
 * A dashboard endpoint's errors: its own codes plus UNAUTHORIZED, RATE_LIMITED (with the
 * budget's X-RateLimit-* headers), SERVICE_UNAVAILABLE.
 */
export const ApiDashboardErrors = (...codes: ErrorCode[]): MethodDecorator & ClassDecorator =>
  errorResponses([...codes, ...DASHBOARD_ERRORS], true);
