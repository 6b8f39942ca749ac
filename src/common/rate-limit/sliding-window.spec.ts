import { FailureLimiter } from './failure-limiter';
import { estimate, msUntilRoom, SlidingWindowCounter } from './sliding-window';

const MINUTE = 60_000;

describe('SlidingWindowCounter', () => {
  let now: number;
  let counter: SlidingWindowCounter;
  const take = (key = 'address', c = counter) => c.take(key);

  beforeEach(() => {
    now = 1_000_000;
    counter = new SlidingWindowCounter(3, MINUTE, () => now);
  });

  it('allows `limit` hits in a window, then refuses (without counting) with the time to wait', () => {
    expect([take(), take(), take()]).toEqual([0, 0, 0]);
    // The three stay in the estimate until the previous window's weight has shrunk to 2 of them.
    expect(take()).toBe(MINUTE + MINUTE / 3);
    now += 20_000;
    expect(take()).toBe(40_000 + MINUTE * (1 - 2 / 3));
    expect(counter.waitFor('address')).toBe(40_000 + MINUTE * (1 - 2 / 3));
  });

  it('counts each key on its own', () => {
    for (let i = 0; i < 3; i += 1) take('a');
    expect(take('a')).toBeGreaterThan(0);
    expect(take('b')).toBe(0);
  });

  it('weighs the previous window by how much of it the sliding window still covers', () => {
    const c = new SlidingWindowCounter(4, MINUTE, () => now);
    for (let i = 0; i < 4; i += 1) take('k', c); // a full previous window
    now += MINUTE + MINUTE / 4; // 3/4 of it still inside: 3 hits count
    expect(take('k', c)).toBe(0); // 3 + 1
    expect(take('k', c)).toBeGreaterThan(0);
    now += MINUTE / 2; // 1/4 left: 1 + 1 current
    expect(take('k', c)).toBe(0);
    now += 2 * MINUTE; // both windows gone
    for (let i = 0; i < 4; i += 1) expect(take('k', c)).toBe(0);
  });

  it('the wait it answers is exactly when the next hit fits', () => {
    for (let i = 0; i < 3; i += 1) take();
    now += MINUTE / 2;
    const wait = counter.waitFor('address');
    now += wait - 1;
    expect(take()).toBeGreaterThan(0);
    now += 1;
    expect(take()).toBe(0);
  });

  it('takes back a refunded hit', () => {
    for (let i = 0; i < 3; i += 1) take();
    counter.refund('address');
    expect(take()).toBe(0);
    expect(take()).toBeGreaterThan(0);
  });

  it('keeps constant memory per key however many hits it counts, and forgets idle keys', () => {
    const busy = new SlidingWindowCounter(1_000_000, MINUTE, () => now);
    for (let i = 0; i < 100_000; i += 1) busy.take('busy');
    for (let i = 0; i < 100; i += 1) busy.take(`idle ${i}`);
    expect(busy.size).toBe(101);
    now += 2 * MINUTE;
    busy.take('busy');
    expect(busy.size).toBe(1);
  });
});

describe('msUntilRoom', () => {
  it('is 0 while one more fits, and otherwise the moment the estimate drops below the limit', () => {
    const counts = { previous: 10, current: 2, elapsedMs: 30_000, windowMs: MINUTE };
    expect(estimate(counts)).toBe(7);
    expect(msUntilRoom(counts, 8)).toBe(0);
    const wait = msUntilRoom(counts, 5); // 10 × (60 − e)/60 + 2 ≤ 4 → e ≥ 48 s
    expect(wait).toBe(18_000);
    expect(msUntilRoom({ ...counts, current: 6 }, 5)).toBe(30_000 + MINUTE * (1 - 4 / 6));
  });
});

describe('FailureLimiter', () => {
  it('answers seconds to wait once an address used up its failures; IPv6 by /64', () => {
    let now = 0;
    const limiter = new FailureLimiter(2, () => now);
    expect([limiter.fail('2001:db8::1'), limiter.fail('2001:db8::2')]).toEqual([0, 0]);
    expect(limiter.fail('2001:db8:0:0:ffff::9')).toBe(90);
    expect(limiter.blockedFor('2001:db8::3')).toBe(90);
    expect(limiter.fail('2001:db8:1::1')).toBe(0);
    expect(limiter.blockedFor('192.0.2.1')).toBe(0);
    now = 90_000;
    expect(limiter.blockedFor('2001:db8::1')).toBe(0);
  });
});
