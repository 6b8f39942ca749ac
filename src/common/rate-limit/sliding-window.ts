/**
 * A sliding window estimated from two fixed windows, O(1) time and space per key: the previous
 * window × the part of it still inside the sliding window, plus the current one (the approximation
 * Cloudflare and nginx use). The arithmetic is shared by the in-memory counters below (failed
 * authentication per address) and the PostgreSQL storage of the API-key budget, which keeps the
 * same two counts in a row.
 */

export interface WindowCounts {
  previous: number;
  current: number;
  /** Milliseconds since the current fixed window started. */
  elapsedMs: number;
  windowMs: number;
}

export function estimate(counts: WindowCounts): number {
  return (
    (counts.previous * (counts.windowMs - counts.elapsedMs)) / counts.windowMs + counts.current
  );
}

/** Milliseconds, with no further hits, until one more fits under `limit` (0: it fits now). */
export function msUntilRoom(counts: WindowCounts, limit: number): number {
  const room = limit - 1;
  if (estimate(counts) <= room) return 0;
  const { previous, current, elapsedMs, windowMs } = counts;
  // Still inside this window: the previous one's weight shrinks until the estimate fits.
  if (current <= room)
    return Math.max(0, windowMs - ((room - current) * windowMs) / previous - elapsedMs);
  // Only after this window ends, as its count becomes the shrinking previous one.
  return windowMs - elapsedMs + windowMs * (1 - room / current);
}

interface Window {
  start: number;
  current: number;
  previous: number;
}

const MAX_KEYS = 100_000;

/**
 * Per-key sliding-window counters in memory. `take` counts a hit only when it fits under the
 * limit (a refused hit is not counted, as in @nestjs/throttler's storages), so a key that keeps
 * trying gets exactly `limit` hits per window. Idle keys are forgotten as it goes (no timer); past
 * MAX_KEYS distinct keys (an attack from very many addresses) everything is forgotten rather than
 * let memory grow.
 */
export class SlidingWindowCounter {
  private readonly windows = new Map<string, Window>();
  private sweptAt: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweptAt = now();
  }

  /** Keys with a live window (for tests and diagnostics). */
  get size(): number {
    return this.windows.size;
  }

  /** Counts one hit and answers 0, or answers the milliseconds until one would fit. */
  take(key: string): number {
    const now = this.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window) {
      if (this.windows.size >= MAX_KEYS) this.windows.clear();
      window = { start: now, current: 0, previous: 0 };
      this.windows.set(key, window);
    }
    roll(window, now, this.windowMs);
    const wait = msUntilRoom(this.countsOf(window, now), this.limit);
    if (wait === 0) window.current += 1;
    return wait;
  }

  /** Milliseconds until a hit would fit, without counting one. */
  waitFor(key: string): number {
    const now = this.now();
    const window = this.windows.get(key);
    if (!window) return 0;
    roll(window, now, this.windowMs);
    return msUntilRoom(this.countsOf(window, now), this.limit);
  }

  /** Takes back a hit counted by take() (the attempt turned out not to count). */
  refund(key: string): void {
    const window = this.windows.get(key);
    if (window && window.current > 0) window.current -= 1;
  }

  private countsOf(window: Window, now: number): WindowCounts {
    return { ...window, elapsedMs: now - window.start, windowMs: this.windowMs };
  }

  /** Forgets keys idle for two whole windows, at most once a window. */
  private sweep(now: number): void {
    if (now - this.sweptAt < this.windowMs) return;
    this.sweptAt = now;
    for (const [key, window] of this.windows) {
      if (now >= window.start + 2 * this.windowMs) this.windows.delete(key);
    }
  }
}

function roll(window: Window, now: number, windowMs: number): void {
  const windows = Math.floor((now - window.start) / windowMs);
  if (windows <= 0) return;
  window.previous = windows === 1 ? window.current : 0;
  window.current = 0;
  window.start += windows * windowMs;
}
