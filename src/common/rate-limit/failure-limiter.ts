/**
 * Failed authentication per client address, counted in memory (cheap, no database): an address
 * may fail `perMinute` times in a sliding minute; past that, its failing requests are answered
 * 429 RATE_LIMITED until it has room again. Only failures count, so a client that authenticates
 * is never limited here however busy it is. Per instance, on purpose: it protects this instance's
 * work, and a shared counter would cost the database round trip it exists to save.
 */
import { normalizeIp } from '@nestjs/throttler';
import { SlidingWindowCounter } from './sliding-window';

const MINUTE_MS = 60_000;

export class FailureLimiter {
  private readonly counter: SlidingWindowCounter;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.counter = new SlidingWindowCounter(perMinute, MINUTE_MS, now);
  }

  /**
   * Counts a failure from `address` and answers 0, or, when the address has used up its failures,
   * answers the seconds until it may fail again (the failure is then not counted).
   */
  fail(address: string | undefined): number {
    return seconds(this.counter.take(keyOf(address)));
  }

  /** Seconds until `address` may fail again, 0 when it is not blocked. Counts nothing. */
  blockedFor(address: string | undefined): number {
    return seconds(this.counter.waitFor(keyOf(address)));
  }

  /** Takes back a failure counted by fail() before the attempt was known to succeed. */
  refund(address: string | undefined): void {
    this.counter.refund(keyOf(address));
  }
}

/** IPv6 addresses by their /64, as @nestjs/throttler does: one host holds a whole /64. */
const keyOf = (address: string | undefined): string => normalizeIp(address ?? '', 64) || 'unknown';

const seconds = (ms: number): number => (ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0);
