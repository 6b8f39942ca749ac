/** Every error code the API answers with, and the one mapping from code to HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  UNAUTHORIZED: 401,
  PLAN_UPGRADE_REQUIRED: 403,
  TWILIO_SIGNATURE_INVALID: 403,
  NOT_FOUND: 404,
  NUMBER_ALREADY_CONNECTED: 409,
  CHANNEL_NOT_CONNECTED: 409,
  CONTACT_OPTED_OUT: 409,
  CONTACT_NOT_REPLYABLE: 409,
  MESSAGING_SERVICE_IN_USE: 409,
  TWILIO_NUMBER_GONE: 409,
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TWILIO_CREDENTIALS_REJECTED: 422,
  TWILIO_NUMBER_NOT_OWNED: 422,
  TWILIO_NUMBER_NOT_SMS_CAPABLE: 422,
  TWILIO_ACCOUNT_NOT_ACTIVE: 422,
  TWILIO_REQUEST_REJECTED: 422,
  TWILIO_MESSAGING_SERVICE_NOT_FOUND: 422,
  TWILIO_NUMBER_NOT_IN_MESSAGING_SERVICE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  AGENT_UNAVAILABLE: 502,
  TWILIO_UNREACHABLE: 503,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** What a 500 says: nothing internal leaves. */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/**
 * Codes of errors the app raises on purpose but never answers with: they are reported (logs,
 * Sentry) or stop a start or a command. A request that meets one answers 500 INTERNAL_ERROR.
 */
export const REPORTED_CODES = [
  /** Twilio reported one of our messages failed or undelivered. */
  'SMS_DELIVERY_FAILED',
  /** Twilio holds two messages for one of ours: the customer got the text twice. */
  'SMS_SENT_TWICE',
  /** Disconnect could not put the number's (or its service's) inbound URL back. */
  'INBOUND_URL_NOT_RESTORED',
  /** A channel's health turned bad (credentials, number, inbound URL). */
  'CHANNEL_UNHEALTHY',
  /** A stored credential does not decrypt with any configured key. */
  'CREDENTIALS_UNREADABLE',
  /** The environment's configuration is invalid: the app does not start. */
  'CONFIG_INVALID',
] as const;
export type ReportedCode = (typeof REPORTED_CODES)[number];

/** Every code a DomainError may carry. */
export type DomainErrorCode = ErrorCode | ReportedCode;

export const isApiErrorCode = (code: DomainErrorCode): code is ErrorCode =>
  Object.hasOwn(ERROR_STATUS, code);

export interface FieldError {
  field: string;
  message: string;
}

/** The contract's one error shape. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details?: FieldError[];
}
