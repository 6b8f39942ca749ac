import {
  DomainErrorCode,
  ERROR_STATUS,
  ErrorBody,
  FieldError,
  INTERNAL_ERROR_MESSAGE,
  isApiErrorCode,
} from './error-codes';

/**
 * An error the app raises on purpose, with a stable code: every such error is one (or a subclass:
 * AgentError, TwilioApiError, DecryptionError…), so a caller recognises it by type and code. The
 * global filter turns it into the contract's shape; a code the API never answers with
 * (REPORTED_CODES) answers 500 INTERNAL_ERROR. `message` is for logs and Sentry; `publicMessage`
 * is what the API answers, the same unless a subclass keeps internal detail in its message.
 * `cause` is kept for logs and Sentry, never serialised. The messages come from errors.ts.
 */
export class DomainError extends Error {
  readonly publicMessage: string;

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: FieldError[],
    options?: { cause?: unknown; publicMessage?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.publicMessage = options?.publicMessage ?? message;
  }

  /** The HTTP status it answers with. */
  get httpStatus(): number {
    return isApiErrorCode(this.code) ? ERROR_STATUS[this.code] : 500;
  }

  toBody(): ErrorBody {
    if (!isApiErrorCode(this.code))
      return { statusCode: 500, code: 'INTERNAL_ERROR', message: INTERNAL_ERROR_MESSAGE };
    const body: ErrorBody = {
      statusCode: this.httpStatus,
      code: this.code,
      message: this.publicMessage,
    };
    if (this.details?.length) body.details = this.details;
    return body;
  }
}

/** A 429 with the seconds to wait; the exception filter sends them as Retry-After. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super('RATE_LIMITED', message);
  }
}
