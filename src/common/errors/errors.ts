/**
 * Every error the API answers with on purpose, each message written once: the throw sites call
 * these, and Swagger's examples (ERROR_EXAMPLES) are built from the same calls. The contract fixes
 * the quoted messages word for word (shared/spec/sms-channel-api.md); a test fails on a
 * DomainError built anywhere else.
 */
import { DomainError, RateLimitedError } from './domain-error';
import { ErrorBody, FieldError, INTERNAL_ERROR_MESSAGE } from './error-codes';

/** Deepest JSON nesting accepted; class-transformer recurses once per level. */
export const JSON_MAX_DEPTH = 32;

/** What the API answers for the model's failures (AgentError). */
export const AGENT_UNAVAILABLE_MESSAGE =
  "The chatbot's AI agent couldn't answer right now, try again";

/** What the API answers for Twilio's failures (TwilioApiError), by kind. */
export const TWILIO_FAILURE_MESSAGES = {
  credentialsRejected: 'Twilio rejected the credentials',
  unreachable: "Couldn't reach Twilio right now",
  requestRejected: (reason: string) => `Twilio refused the request: ${reason}`,
};

const validationFailed = (details: FieldError[]) =>
  new DomainError('VALIDATION_FAILED', 'Request validation failed', details);

export const Errors = {
  // 400
  validationFailed,
  /** One field of a request that has no DTO (a webhook's form, a header, a path parameter). */
  invalidField: (field: string, message: string) => validationFailed([{ field, message }]),
  webhookFieldMissing: (field: 'MessageSid' | 'From') =>
    new DomainError('VALIDATION_FAILED', 'MessageSid and From are required', [
      { field, message: 'missing or malformed' },
    ]),
  organizationNameRequired: () =>
    new DomainError('VALIDATION_FAILED', 'name is required', [
      { field: 'name', message: 'name must not be empty' },
    ]),
  organizationPlanInvalid: (plans: readonly string[]) =>
    new DomainError('VALIDATION_FAILED', `plan must be one of ${plans.join(', ')}`, [
      { field: 'plan', message: `plan must be one of ${plans.join(', ')}` },
    ]),
  malformedJson: () => new DomainError('MALFORMED_BODY', 'Request body is not valid JSON'),
  jsonTooDeep: () =>
    new DomainError(
      'MALFORMED_BODY',
      `Request body is nested more than ${JSON_MAX_DEPTH} levels deep`,
    ),
  unreadableBody: () => new DomainError('MALFORMED_BODY', 'Request body could not be read'),
  malformedHttpRequest: () => new DomainError('MALFORMED_BODY', 'Malformed HTTP request'),
  // 401, 403
  apiKeyRequired: () =>
    new DomainError('UNAUTHORIZED', 'A valid API key is required (Authorization: Bearer <key>)'),
  metricsTokenRequired: () =>
    new DomainError(
      'UNAUTHORIZED',
      'A valid metrics token is required (Authorization: Bearer <METRICS_TOKEN>)',
    ),
  planUpgradeRequired: (plan: string) =>
    new DomainError(
      'PLAN_UPGRADE_REQUIRED',
      `The SMS channel needs the Starter plan or above; this organization is on ${plan}`,
    ),
  twilioSignatureInvalid: () =>
    new DomainError('TWILIO_SIGNATURE_INVALID', 'Twilio signature missing or invalid'),
  // 404
  notFound: (what: string) => new DomainError('NOT_FOUND', `${what} not found`),
  routeNotFound: () => new DomainError('NOT_FOUND', 'Route not found'),
  noPendingAuthToken: () =>
    new DomainError('NOT_FOUND', 'No new Auth Token is pending for this channel'),
  noSuchApiKey: () => new DomainError('NOT_FOUND', 'No active key matches --key'),
  // 409
  numberAlreadyConnected: () =>
    new DomainError(
      'NUMBER_ALREADY_CONNECTED',
      'This number is already connected to another chatbot; disconnect it there first',
    ),
  channelNotConnected: () =>
    new DomainError(
      'CHANNEL_NOT_CONNECTED',
      "This conversation's SMS number is no longer connected; reconnect the SMS channel to reply",
    ),
  contactOptedOut: () =>
    new DomainError(
      'CONTACT_OPTED_OUT',
      'This customer opted out of SMS from this number (replied STOP); they can be texted again after they send START',
    ),
  contactNotReplyable: () =>
    new DomainError(
      'CONTACT_NOT_REPLYABLE',
      "This sender can't be texted back: it is a short code, an alphanumeric sender ID or this channel's own number",
    ),
  messagingServiceInUse: (service: string, otherNumbers: number, url: string) =>
    new DomainError(
      'MESSAGING_SERVICE_IN_USE',
      `The Messaging Service "${service}" sends the inbound messages of ${otherNumbers} other number${otherNumbers === 1 ? '' : 's'} to ${url}; ` +
        `set "Incoming Messages" to "Defer to sender's webhook" in its Integration settings in the Twilio Console (each number then uses its own "A message comes in" URL, and we set only this one's), ` +
        `or connect with configureWebhook: "service" to point the whole service at us`,
    ),
  twilioNumberGone: (phoneNumber: string, cause?: unknown) =>
    new DomainError(
      'TWILIO_NUMBER_GONE',
      `${phoneNumber} is no longer on this Twilio account; connect it again (or another number)`,
      undefined,
      { cause },
    ),
  idempotencyKeyInProgress: () =>
    new DomainError(
      'IDEMPOTENCY_KEY_IN_PROGRESS',
      'A request with this Idempotency-Key is still running; retry when it has finished',
    ),
  // 413, 415, 431
  payloadTooLarge: () => new DomainError('PAYLOAD_TOO_LARGE', 'Request body is too large'),
  jsonOnly: () =>
    new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the body as JSON with Content-Type: application/json (a charset parameter is allowed)',
    ),
  unsupportedBodyEncoding: () =>
    new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding'),
  headersTooLarge: () =>
    new DomainError('HEADERS_TOO_LARGE', 'Request line or headers are too large'),
  // 422
  twilioCredentialsRejected: () =>
    new DomainError('TWILIO_CREDENTIALS_REJECTED', TWILIO_FAILURE_MESSAGES.credentialsRejected),
  twilioNumberNotOwned: () =>
    new DomainError(
      'TWILIO_NUMBER_NOT_OWNED',
      "The phone number you entered doesn't belong to this Twilio account",
    ),
  twilioNumberNotSmsCapable: () =>
    new DomainError(
      'TWILIO_NUMBER_NOT_SMS_CAPABLE',
      'This Twilio number cannot send or receive SMS',
    ),
  twilioAccountNotActive: (status: string) =>
    new DomainError(
      'TWILIO_ACCOUNT_NOT_ACTIVE',
      `This Twilio account is ${status}; reactivate it in the Twilio Console first`,
    ),
  twilioRequestRejected: (reason: string) =>
    new DomainError('TWILIO_REQUEST_REJECTED', TWILIO_FAILURE_MESSAGES.requestRejected(reason)),
  twilioMessagingServiceNotFound: () =>
    new DomainError(
      'TWILIO_MESSAGING_SERVICE_NOT_FOUND',
      "The Messaging Service you entered doesn't belong to this Twilio account",
    ),
  twilioNumberNotInMessagingService: () =>
    new DomainError(
      'TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE',
      "The phone number isn't in that Messaging Service",
    ),
  /** An error answer stored under an Idempotency-Key, answered again as it was. */
  replayed: (body: ErrorBody) => new DomainError(body.code, body.message, body.details),
  idempotencyKeyReused: () =>
    new DomainError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used with another request; use a new key for a new request',
    ),
  // 429
  /** The dashboard's per-key budget (@nestjs/throttler sends its Retry-After). */
  tooManyRequests: () => new DomainError('RATE_LIMITED', 'Too many requests, slow down'),
  tooManyApiKeyFailures: (retryAfterSeconds: number) =>
    new RateLimitedError(
      retryAfterSeconds,
      'Too many failed API key attempts from this address, try again later',
    ),
  tooManyWebhookFailures: (retryAfterSeconds: number) =>
    new RateLimitedError(
      retryAfterSeconds,
      'Too many failed webhook requests from this address, try again later',
    ),
  // 500, 502, 503
  internal: () => new DomainError('INTERNAL_ERROR', INTERNAL_ERROR_MESSAGE),
  agentUnavailable: () => new DomainError('AGENT_UNAVAILABLE', AGENT_UNAVAILABLE_MESSAGE),
  twilioUnreachable: () =>
    new DomainError('TWILIO_UNREACHABLE', TWILIO_FAILURE_MESSAGES.unreachable),
  serviceUnavailable: () =>
    new DomainError('SERVICE_UNAVAILABLE', 'Service temporarily unavailable, try again'),
  databaseUnavailable: () => new DomainError('SERVICE_UNAVAILABLE', 'Database is unavailable'),
  notReady: (problems: string[]) =>
    new DomainError('SERVICE_UNAVAILABLE', `Not ready: ${problems.join('; ')}`),
  /** A webhook for a number whose stored Auth Token does not decrypt (our fault: Twilio may retry). */
  channelCredentialsUnreadable: () =>
    new DomainError(
      'SERVICE_UNAVAILABLE',
      "This number's stored credentials cannot be read right now",
    ),
  /** The channel changed twice while one inbound message was being stored: Twilio may retry. */
  channelChangedWhileStoring: () =>
    new DomainError(
      'SERVICE_UNAVAILABLE',
      'The channel changed while the message was being stored',
    ),
};
