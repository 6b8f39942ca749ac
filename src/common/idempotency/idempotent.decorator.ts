import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { ErrorCode } from '../errors/error-codes';
import { IDEMPOTENT } from './idempotency-key';
import { IdempotencyInterceptor } from './idempotency.interceptor';

export { IDEMPOTENT, IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_PATTERN } from './idempotency-key';

/** What an idempotent write can answer besides its own errors. */
export const IDEMPOTENCY_ERRORS: ErrorCode[] = [
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_PROGRESS',
];

/**
 * Marks a write as accepting `Idempotency-Key` (IdempotencyInterceptor does the work) and
 * documents the header; list IDEMPOTENCY_ERRORS in the route's ApiDashboardErrors. The
 * interceptor is put on these routes only, not made global: a route without any interceptor
 * skips Nest's interceptor pipeline (an rxjs chain and two AsyncResource.bind per request), which
 * every webhook paid for a check that always said "not idempotent".
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    UseInterceptors(IdempotencyInterceptor),
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
