/**
 * Work done later on behalf of a request (a reply job queued by a webhook) runs with that
 * request's id: its log lines carry `"req":{"id":…}` as the request's own lines do, and its
 * Sentry events the tag `request_id`, so one SMS can be followed from the webhook to
 * Messages.create.
 */
import * as Sentry from '@sentry/nestjs';
import type { PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';

export function runWithRequestId<T>(
  pino: PinoLogger,
  requestId: string | undefined,
  bindings: Record<string, unknown>,
  run: () => Promise<T>,
): Promise<T> {
  const logger = pino.logger.child(requestId ? { req: { id: requestId }, ...bindings } : bindings);
  return storage.run(new Store(logger), () =>
    Sentry.withIsolationScope((scope) => {
      if (requestId) scope.setTag('request_id', requestId);
      return run();
    }),
  );
}
