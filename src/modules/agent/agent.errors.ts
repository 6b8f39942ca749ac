import { DomainError } from '../../common/errors/domain-error';

/**
 * The agent could not produce an answer (model API down, timed out, rejected the request, or
 * answered nothing usable). `transient` tells callers whether trying again later may work:
 * timeouts, network errors, 408/409/429 and 5xx are transient; other 4xx (bad key, bad request)
 * are not. The message never carries the provider's response body or credentials.
 */
export class AgentError extends Error {
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
    super(message, { cause: options.cause });
    this.name = 'AgentError';
    this.transient = options.transient;
    this.provider = options.provider;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.postponeSeconds = options.postponeSeconds;
  }
}

/** The one place an AgentError becomes an API error (502 AGENT_UNAVAILABLE). */
export function agentUnavailable(error: AgentError): DomainError {
  return new DomainError(
    'AGENT_UNAVAILABLE',
    "The chatbot's AI agent couldn't answer right now, try again",
    undefined,
    { cause: error },
  );
}
