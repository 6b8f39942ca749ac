import { DomainError } from '../../common/errors/domain-error';
import { AGENT_UNAVAILABLE_MESSAGE } from '../../common/errors/errors';

/**
 * The agent could not produce an answer (model API down, timed out, rejected the request, or
 * answered nothing usable). `transient` tells callers whether trying again later may work:
 * timeouts, network errors, 408/409/429 and 5xx are transient; other 4xx (bad key, bad request)
 * are not. An HTTP route that meets one answers 502 AGENT_UNAVAILABLE with the contract's message;
 * `message` (for logs and Sentry) says what failed, never with the provider's response body or
 * credentials.
 */
export class AgentError extends DomainError {
  readonly transient: boolean;
  readonly provider: string;
  /** HTTP status from the model API, when it answered with one. */
  readonly status?: number;
  /** Not before this: the model API's Retry-After, or how long its gate stays closed. */
  readonly retryAfterSeconds?: number;
  /**
   * No call was made (the provider's gate was closed): the attempt does not count, and the reply
   * job goes back to the queue until then without using up one of its retries.
   */
  readonly postponeSeconds?: number;

  constructor(
    message: string,
    options: {
      transient: boolean;
      provider: string;
      status?: number;
      cause?: unknown;
      retryAfterSeconds?: number;
      postponeSeconds?: number;
    },
  ) {
    super('AGENT_UNAVAILABLE', message, undefined, {
      cause: options.cause,
      publicMessage: AGENT_UNAVAILABLE_MESSAGE,
    });
    this.transient = options.transient;
    this.provider = options.provider;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.postponeSeconds = options.postponeSeconds;
  }
}
