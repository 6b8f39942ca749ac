/**
 * Swagger for error responses in one place: `@ApiErrors('NOT_FOUND', …)` documents each code under
 * its HTTP status (from ERROR_STATUS) with the contract's error shape and an example per code, so
 * the dashboard sees every `code` an endpoint can answer.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { DomainError } from './domain-error';
import { ERROR_STATUS, ErrorBody, ErrorCode } from './error-codes';
import { Errors } from './errors';
import { ErrorResponse } from './error-response.dto';

/** An error per code as the API answers it, from the one catalogue of messages (errors.ts). */
export const ERROR_EXAMPLES: Record<ErrorCode, DomainError> = {
  VALIDATION_FAILED: Errors.validationFailed([
    { field: 'name', message: 'name must be shorter than or equal to 100 characters' },
  ]),
  MALFORMED_BODY: Errors.malformedJson(),
  UNAUTHORIZED: Errors.apiKeyRequired(),
  PLAN_UPGRADE_REQUIRED: Errors.planUpgradeRequired('free'),
  TWILIO_SIGNATURE_INVALID: Errors.twilioSignatureInvalid(),
  NOT_FOUND: Errors.notFound('Chatbot'),
  NUMBER_ALREADY_CONNECTED: Errors.numberAlreadyConnected(),
  CHANNEL_NOT_CONNECTED: Errors.channelNotConnected(),
  CONTACT_OPTED_OUT: Errors.contactOptedOut(),
  CONTACT_NOT_REPLYABLE: Errors.contactNotReplyable(),
  MESSAGING_SERVICE_IN_USE: Errors.messagingServiceInUse(
    'Support',
    2,
    'https://crm.example.com/sms',
  ),
  TWILIO_NUMBER_GONE: Errors.twilioNumberGone('+358401234567'),
  IDEMPOTENCY_KEY_IN_PROGRESS: Errors.idempotencyKeyInProgress(),
  IDEMPOTENCY_KEY_REUSED: Errors.idempotencyKeyReused(),
  PAYLOAD_TOO_LARGE: Errors.payloadTooLarge(),
  HEADERS_TOO_LARGE: Errors.headersTooLarge(),
  UNSUPPORTED_MEDIA_TYPE: Errors.jsonOnly(),
  TWILIO_CREDENTIALS_REJECTED: Errors.twilioCredentialsRejected(),
  TWILIO_NUMBER_NOT_OWNED: Errors.twilioNumberNotOwned(),
  TWILIO_NUMBER_NOT_SMS_CAPABLE: Errors.twilioNumberNotSmsCapable(),
  TWILIO_ACCOUNT_NOT_ACTIVE: Errors.twilioAccountNotActive('suspended'),
  TWILIO_REQUEST_REJECTED: Errors.twilioRequestRejected(
    '21606 The From phone number is not a valid SMS number',
  ),
  TWILIO_MESSAGING_SERVICE_NOT_FOUND: Errors.twilioMessagingServiceNotFound(),
  TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE: Errors.twilioNumberNotInMessagingService(),
  RATE_LIMITED: Errors.tooManyRequests(),
  INTERNAL_ERROR: Errors.internal(),
  AGENT_UNAVAILABLE: Errors.agentUnavailable(),
  TWILIO_UNREACHABLE: Errors.twilioUnreachable(),
  SERVICE_UNAVAILABLE: Errors.serviceUnavailable(),
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
  return ERROR_EXAMPLES[code].toBody();
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
          .map((code) => `\`${code}\`: ${ERROR_EXAMPLES[code].publicMessage.replace(/</g, '&lt;')}`)
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
