import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { ErrorCode } from '../errors/error-codes';

export const IDEMPOTENT = 'idempotent';
/** Node lower-cases header names. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Visible ASCII, as Stripe accepts (a UUID fits); one key, so no comma-joined repeats. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;
/** What an idempotent write can answer besides its own errors. */
export const IDEMPOTENCY_ERRORS: ErrorCode[] = [
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_PROGRESS',
];

/**
 * Marks a write as accepting `Idempotency-Key` (IdempotencyInterceptor does the work) and
 * documents the header; list IDEMPOTENCY_ERRORS in the route's ApiDashboardErrors.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Any unique string (a UUID) to make a retry safe: the same key with the same body within 24 hours answers the first result (status and body, with `Idempotent-Replayed: true`) without doing it again; with another body 422 `IDEMPOTENCY_KEY_REUSED`; while the first still runs 409 `IDEMPOTENCY_KEY_IN_PROGRESS`. A 5xx or a validation error is not kept: retry with the same key.',
      // No example: Swagger UI would pre-fill one key for everyone who tries the operation.
      schema: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
      },
    }),
  );
