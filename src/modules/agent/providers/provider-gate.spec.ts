import { MAX_RETRY_AFTER_MS, ProviderGate, retryAfterMs } from './provider-gate';

describe('ProviderGate', () => {
  let now: number;
  let random: number;
  const gate = () =>
    new ProviderGate(
      { firstMs: 1_000, maxMs: 8_000 },
      () => now,
      () => random,
    );
  beforeEach(() => {
    now = 1_000_000;
    random = 1;
  });

  it('closes for the Retry-After of a 429, and never shortens a longer closing', () => {
    const g = gate();
    g.throttled(30_000);
    expect(g.openAt).toBe(now + 30_000);
    g.throttled(5_000);
    expect(g.openAt).toBe(now + 30_000);
  });

  it('caps a Retry-After at ten minutes', () => {
    const g = gate();
    g.throttled(24 * 3_600_000);
    expect(g.openAt).toBe(now + MAX_RETRY_AFTER_MS);
  });

  it('stays open after one failure, then backs off doubling up to the ceiling, with jitter', () => {
    const g = gate();
    g.failed();
    expect(g.openAt).toBeLessThanOrEqual(now);
    const closings = [1, 2, 3, 4, 5].map(() => {
      g.failed();
      return g.openAt - now;
    });
    expect(closings).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    random = 0;
    now += 100_000;
    g.failed();
    expect(g.openAt - now).toBe(4_000);
  });

  it('a success resets the backoff', () => {
    const g = gate();
    g.failed();
    g.failed();
    g.failed();
    g.succeeded();
    now += 100_000;
    g.failed();
    expect(g.openAt).toBeLessThanOrEqual(now);
  });

  it('a 429 without Retry-After closes at once, for the backoff', () => {
    const g = gate();
    g.throttled(null);
    expect(g.openAt - now).toBe(1_000);
  });
});

describe('retryAfterMs', () => {
  const headers = (entries: Record<string, string>) => new Headers(entries);
  it('reads retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1_500);
    expect(retryAfterMs(headers({ 'retry-after': '3' }))).toBe(3_000);
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Tue, 01 Dec 2026 12:00:20 GMT' }), now)).toBe(
      20_000,
    );
  });
  it('answers null without a usable header', () => {
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs(headers({}))).toBeNull();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeNull();
  });
});
