/**
 * Twilio's failures, injected by tests: answers with an error, answers late, connections dropped
 * (before or after Twilio acted), and Messages.create refused with a Twilio error code. Each
 * request consumes at most one fault: the earliest-registered matching one.
 */
import type { OperationId } from './openapi';

export type FaultKind = 'error' | 'delay' | 'drop';

export interface FaultFilter {
  /** Case-insensitive HTTP method. */
  method?: string;
  /** Substring of the URL path, e.g. '/Messages.json'. */
  pathIncludes?: string;
  /** Operation from the OpenAPI document, e.g. 'CreateMessage'. */
  operationId?: OperationId;
}

export interface InjectedError {
  status: number;
  /** Default 20000 + status (20429, 20500, 20503: Twilio's own codes). */
  code?: number;
  message?: string;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
}

export interface DropOptions extends FaultFilter {
  /**
   * Process the request (e.g. record the message) before dropping: the
   * "did it go through?" case. Default false: dropped before any effect.
   */
  afterProcessing?: boolean;
}

export type FaultAction =
  | { kind: 'error'; error: InjectedError }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop'; afterProcessing: boolean };

export interface MessageRejection {
  code: number;
  message: string;
  status: number;
  to?: string;
}

interface FaultRule {
  remaining: number;
  filter: FaultFilter;
  action: FaultAction;
}

export class Faults {
  private rules: FaultRule[] = [];
  private rejections: MessageRejection[] = [];

  add(n: number, filter: FaultFilter, action: FaultAction): void {
    // n = 0 would register a rule that never fires: almost certainly a test bug.
    if (!(n > 0)) throw new Error(`Fault count must be positive, got ${n}`);
    this.rules.push({ remaining: n, filter, action });
  }

  /** The fault this request consumes, if one matches. */
  take(request: {
    method: string;
    path: string;
    operationId: OperationId | null;
  }): FaultAction | undefined {
    const rule = this.rules.find(
      (f) =>
        f.remaining > 0 &&
        (f.filter.method === undefined || f.filter.method.toUpperCase() === request.method) &&
        (f.filter.pathIncludes === undefined || request.path.includes(f.filter.pathIncludes)) &&
        (f.filter.operationId === undefined || f.filter.operationId === request.operationId),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((f) => f !== rule);
    return rule.action;
  }

  rejectMessages(rejection: MessageRejection): void {
    this.rejections.push(rejection);
  }

  /** The Twilio error Messages.create answers for `to`, if one was configured. */
  messageRejectionFor(to: string): MessageRejection | undefined {
    return this.rejections.find((r) => r.to === undefined || r.to === to);
  }

  clear(): void {
    this.rules = [];
    this.rejections = [];
  }
}
