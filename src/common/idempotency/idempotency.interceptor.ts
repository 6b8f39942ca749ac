/**
 * Idempotency-Key (the IETF httpapi draft header, as Stripe uses it) on the writes marked
 * `@Idempotent()`: the first request with a key runs and its result (status and body) is kept for
 * 24 hours per organization; a repeat with the same method, path and body gets that result again
 * without running (header `Idempotent-Replayed: true`), one with another body 422
 * IDEMPOTENCY_KEY_REUSED, one while the first still runs 409 IDEMPOTENCY_KEY_IN_PROGRESS.
 * Outcomes that did nothing or may heal are not kept: a 5xx (Twilio or the database unreachable,
 * the agent down) and a request refused by validation give the key back, so a retry runs again.
 */
import {
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { catchError, concatMap, from, Observable, of } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { ErrorBody } from '../errors/error-codes';
import { Errors } from '../errors/errors';
import { toErrorBody } from '../errors/http-exception.filter';
import { IdempotencyKeyStore } from './idempotency-key.store';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT, IDEMPOTENCY_KEY_PATTERN } from './idempotency-key';

export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** Codes that mean the request did nothing yet or may succeed on a retry: not kept. */
const RETRYABLE = (body: ErrorBody): boolean =>
  body.statusCode >= 500 || body.code === 'VALIDATION_FAILED' || body.code === 'MALFORMED_BODY';

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one body. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/** What "the same request" means: method, path with query, and the parsed body. */
export function requestHash(
  request: Pick<AuthenticatedRequest, 'method' | 'originalUrl' | 'body'>,
): string {
  return createHash('sha256')
    .update(`${request.method} ${request.originalUrl}\n${canonicalJson(request.body)}`)
    .digest('hex');
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly reflector: Reflector,
    private readonly store: IdempotencyKeyStore,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (!this.reflector.get<boolean>(IDEMPOTENT, context.getHandler())) return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined || !request.organization) return next.handle();
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key))
      throw Errors.invalidField(
        'Idempotency-Key',
        'Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID',
      );
    const organizationId = request.organization.id;
    const hash = requestHash(request);
    const lookup = await this.store.claim(organizationId, key, hash);
    if (lookup.outcome !== 'claimed') {
      if (lookup.requestHash !== null && lookup.requestHash !== hash)
        throw Errors.idempotencyKeyReused();
      if (lookup.outcome === 'in-progress') throw Errors.idempotencyKeyInProgress();
      context.switchToHttp().getResponse<Response>().setHeader(REPLAYED_HEADER, 'true');
      if (lookup.status >= 400) {
        const error = lookup.body as ErrorBody;
        throw Errors.replayed(error);
      }
      return of(lookup.body);
    }
    const { claimId } = lookup;
    const status =
      this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return next.handle().pipe(
      concatMap((result: unknown) =>
        from(
          this.store
            .complete(organizationId, key, claimId, status, result)
            .catch((error: unknown) => this.storeFailed(error))
            .then(() => result),
        ),
      ),
      catchError((error: unknown) => {
        const body = toErrorBody(error);
        const recorded = RETRYABLE(body)
          ? this.store.release(organizationId, key, claimId)
          : this.store.complete(organizationId, key, claimId, body.statusCode, body);
        return from(
          recorded
            .catch((storeError: unknown) => this.storeFailed(storeError))
            .then(() => {
              throw error;
            }),
        );
      }),
    );
  }

  /**
   * The request ran but its result could not be kept: answer it anyway (the client has it); the
   * claim lapses after IDEMPOTENCY_CLAIM_SECONDS, until then a repeat gets 409.
   */
  private storeFailed(error: unknown): void {
    this.logger.warn({ err: error }, 'could not record the result of an idempotent request');
  }
}
