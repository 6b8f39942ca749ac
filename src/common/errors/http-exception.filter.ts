import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import * as Sentry from '@sentry/nestjs';
import type { Response } from 'express';
import { DomainError, RateLimitedError } from './domain-error';
import { ErrorBody, ErrorCode } from './error-codes';
import { Errors } from './errors';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'MALFORMED_BODY',
  401: 'UNAUTHORIZED',
  403: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Errors that mean the database is unreachable right now: answer 503, not 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed, not `instanceof Error`: errors from Node's own sockets come from another realm
  // under jest's VM modules (and any other sandbox), and must still count.
  const e = error as { message?: unknown; code?: unknown } | null;
  const text =
    e && typeof e === 'object' ? `${String(e.message ?? '')} ${String(e.code ?? '')}` : '';
  return /ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|terminating connection|57P01|57P03/.test(
    text,
  );
}

/** Maps anything thrown into the contract's error shape; internal details never leave. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) return exception.toBody();
  if (exception instanceof ThrottlerException) return Errors.tooManyRequests().toBody();
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    if (statusCode === 404) return Errors.routeNotFound().toBody();
    const code =
      CODE_BY_STATUS[statusCode] ?? (statusCode >= 500 ? 'INTERNAL_ERROR' : 'MALFORMED_BODY');
    // Nest's own HTTP errors (none of ours: ours are DomainErrors), answered with their words.
    return { statusCode, code, message: exception.message };
  }
  if (isDatabaseUnavailable(exception)) return Errors.serviceUnavailable().toBody();
  return Errors.internal().toBody();
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error({ err: exception, code: body.code }, 'request failed');
      if (body.code === 'INTERNAL_ERROR') Sentry.captureException(exception);
    }
    if (response.headersSent) return;
    if (exception instanceof RateLimitedError)
      response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    // type(): a route's @Header('Content-Type', 'text/xml') is already set when its handler throws.
    response.status(body.statusCode).type('application/json').json(body);
  }
}
