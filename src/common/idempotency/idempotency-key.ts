/** The route metadata `@Idempotent()` sets, and the header the interceptor reads. */
export const IDEMPOTENT = 'idempotent';
/** Node lower-cases header names. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Visible ASCII, as Stripe accepts (a UUID fits); one key, so no comma-joined repeats. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;
