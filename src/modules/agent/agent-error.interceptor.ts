import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, throwError } from 'rxjs';
import { AgentError, agentUnavailable } from './agent.errors';

/**
 * HTTP routes that run the agent answer 502 AGENT_UNAVAILABLE when it fails. Other callers (the
 * SMS reply worker) get the AgentError itself, with `transient`, to retry or record it.
 */
@Injectable()
export class AgentErrorInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() => (error instanceof AgentError ? agentUnavailable(error) : error)),
        ),
      );
  }
}
