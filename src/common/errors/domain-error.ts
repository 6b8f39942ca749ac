import { ERROR_STATUS, ErrorBody, ErrorCode, FieldError } from './error-codes';

/**
 * A failure the API reports on purpose. Modules throw it with a stable code; the global filter
 * turns it into the contract's shape. `cause` is kept for logs and Sentry, never serialised.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { statusCode: this.status, code: this.code, message: this.message };
    if (this.details?.length) body.details = this.details;
    return body;
  }
}

export const notFound = (what: string): DomainError =>
  new DomainError('NOT_FOUND', `${what} not found`);

/** A 429 with the seconds to wait; the exception filter sends them as Retry-After. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super('RATE_LIMITED', message);
  }
}
