/**
 * One per model API per process: when the API says "too many requests" (429, for its
 * Retry-After) or fails as a service (5xx, unreachable), no call to it starts until the gate
 * opens again, whichever reply job is asking: the API sees one process slowing down, not a
 * hundred jobs each retrying on its own. One failure alone (a keep-alive socket the server had
 * just closed) does not close it; from the second in a row it stays closed longer each time
 * (doubling, with jitter so instances do not return in step); a success resets that.
 */
export interface GateBackoff {
  firstMs: number;
  maxMs: number;
}

/** Longest wait a Retry-After may impose: a broken header must not silence replies for a day. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

export class ProviderGate {
  private closedUntil = 0;
  private failures = 0;

  constructor(
    private readonly backoff: GateBackoff = { firstMs: 1_000, maxMs: 60_000 },
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Epoch ms at which calls may start again; in the past when open. */
  get openAt(): number {
    return this.closedUntil;
  }

  /** A 429: closed for the API's Retry-After, or for the failure backoff when it gave none. */
  throttled(retryAfterMs: number | null): void {
    if (retryAfterMs === null) {
      this.failures = Math.max(this.failures, 1);
      return this.failed();
    }
    this.closeFor(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  }

  /** A failure of the service itself (5xx, connection refused or reset). */
  failed(): void {
    this.failures += 1;
    if (this.failures < 2) return;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** (this.failures - 2));
    this.closeFor(ceiling / 2 + (ceiling / 2) * this.random());
  }

  succeeded(): void {
    this.failures = 0;
  }

  private closeFor(ms: number): void {
    this.closedUntil = Math.max(this.closedUntil, this.now() + ms);
  }
}

/** Retry-After as milliseconds: OpenAI's retry-after-ms, or seconds, or an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const millis = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const raw = headers?.get('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
