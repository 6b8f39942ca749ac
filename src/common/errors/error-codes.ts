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
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TWILIO_CREDENTIALS_REJECTED: 422,
  TWILIO_NUMBER_NOT_OWNED: 422,
  TWILIO_NUMBER_NOT_SMS_CAPABLE: 422,
  TWILIO_ACCOUNT_NOT_ACTIVE: 422,
  TWILIO_REQUEST_REJECTED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  AGENT_UNAVAILABLE: 502,
  TWILIO_UNREACHABLE: 503,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
