/**
 * Every request carries an id: the caller's `X-Request-Id` when it is a sane token (a proxy's or
 * the dashboard's own, so one id follows a call across services), otherwise a new UUID. It is
 * echoed in the response, bound to every log line of the request (pino-http reads `req.id`) and
 * tagged on the request's Sentry scope.
 */
import * as Sentry from '@sentry/nestjs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Bounded, and nothing that could break a log line or a header: no spaces, quotes or controls. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._~:+=/-]{1,128}$/;

type WithId = IncomingMessage & { id?: unknown; receivedAt?: number };

/** The request's id, chosen once: pino-http's genReqId and the first middleware both call it. */
export function assignRequestId(req: WithId, res: ServerResponse): string {
  if (typeof req.id === 'string') return req.id;
  const incoming = req.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && ACCEPTED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.id = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  // Sentry's HTTP integration gives each request its own isolation scope.
  if (Sentry.getClient()) Sentry.getIsolationScope().setTag('request_id', id);
  return id;
}

/** First in the Express chain, so even a body the parser refuses answers with the id. */
export function requestIdMiddleware(req: WithId, res: ServerResponse, next: () => void): void {
  req.receivedAt = Date.now();
  assignRequestId(req, res);
  next();
}

/** What a job queued by this request carries (JobTrace): its id, and when it arrived (epoch ms). */
export function requestTrace(req: WithId): { requestId?: string; receivedAt?: number } {
  return { requestId: typeof req.id === 'string' ? req.id : undefined, receivedAt: req.receivedAt };
}
