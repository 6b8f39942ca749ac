import { classifyTwilioSendError, describeTwilioErrorCode } from '../../../common/sms';

/**
 * A failed Twilio REST call in our own terms: Twilio's `code`, `status`, `more_info`, and whether
 * trying again can help. `ambiguous` marks failures where Twilio may have acted anyway (the
 * request was sent but no answer came back), which a sender must check before resending.
 */
export class TwilioApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: number | null,
    readonly moreInfo: string | null,
    readonly transient: boolean,
    readonly ambiguous: boolean,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }

  get isAuthenticationFailure(): boolean {
    return this.status === 401 || this.code === 20003;
  }

  /** A reason a person can read in the inbox. */
  get reason(): string {
    if (this.status === null) return `Could not reach Twilio (${this.message})`;
    return describeTwilioErrorCode(this.code, this.message);
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
