import { DomainError } from '../../../common/errors/domain-error';
import { TWILIO_FAILURE_MESSAGES } from '../../../common/errors/errors';
import {
  AUTHENTICATION_FAILED,
  classifyTwilioSendError,
  describeTwilioErrorCode,
} from '../../../common/sms';

/**
 * A failed Twilio REST call in our own terms: Twilio's error code (`twilioCode`), `status`,
 * `more_info`, and whether trying again can help. `ambiguous` marks failures where Twilio may have
 * acted anyway (the request was sent but no answer came back), which a sender must check before
 * resending. Its own code says how a dashboard call that made it answers: rejected credentials
 * (422), Twilio unreachable (503), or the request refused (422, with Twilio's reason). `message`
 * is Twilio's own words, for logs and Sentry.
 */
export class TwilioApiError extends DomainError {
  constructor(
    message: string,
    readonly status: number | null,
    readonly twilioCode: number | null,
    readonly moreInfo: string | null,
    readonly transient: boolean,
    readonly ambiguous: boolean,
    readonly retryAfterSeconds: number | null = null,
  ) {
    const rejected = status === 401 || twilioCode === AUTHENTICATION_FAILED;
    const reason =
      status === null
        ? `Could not reach Twilio (${message})`
        : describeTwilioErrorCode(twilioCode, message);
    super(
      rejected
        ? 'TWILIO_CREDENTIALS_REJECTED'
        : transient
          ? 'TWILIO_UNREACHABLE'
          : 'TWILIO_REQUEST_REJECTED',
      message,
      undefined,
      {
        publicMessage: rejected
          ? TWILIO_FAILURE_MESSAGES.credentialsRejected
          : transient
            ? TWILIO_FAILURE_MESSAGES.unreachable
            : TWILIO_FAILURE_MESSAGES.requestRejected(reason),
      },
    );
    this.reason = reason;
  }

  /** A reason a person can read in the inbox. */
  readonly reason: string;

  get isAuthenticationFailure(): boolean {
    return this.code === 'TWILIO_CREDENTIALS_REJECTED';
  }
}

const NOT_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

/** Maps whatever the twilio SDK threw (RestException, axios/network error) to TwilioApiError. */
export function toTwilioApiError(
  error: unknown,
  retryAfterSeconds: number | null = null,
): TwilioApiError {
  if (error instanceof TwilioApiError) return error;
  const e = error as {
    status?: number;
    code?: number | string;
    message?: string;
    moreInfo?: string;
    response?: { headers?: Record<string, string> };
  };
  if (typeof e?.status === 'number') {
    const code = typeof e.code === 'number' ? e.code : null;
    const transient =
      classifyTwilioSendError({ status: e.status, code: code ?? undefined }) === 'transient';
    return new TwilioApiError(
      e.message || `Twilio answered ${e.status}`,
      e.status,
      code,
      e.moreInfo ?? null,
      transient,
      false,
      retryAfterSeconds,
    );
  }
  const text = `${e?.code ?? ''} ${e?.message ?? String(error)}`;
  // A refused connection never reached Twilio; a timeout or reset may have been processed.
  return new TwilioApiError(
    (e?.message || 'network error').slice(0, 200),
    null,
    null,
    null,
    true,
    !NOT_SENT.test(text),
  );
}
