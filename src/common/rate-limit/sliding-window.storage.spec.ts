import { SlidingWindowStorage } from './sliding-window.storage';

describe('SlidingWindowStorage', () => {
  const MINUTE = 60_000;
  let now: number;
  let storage: SlidingWindowStorage;
  const hit = (key = 'number:+358401234567', limit = 3) =>
    storage.increment(key, MINUTE, limit, MINUTE, 'default');

  beforeEach(() => {
    now = 1_000_000;
    storage = new SlidingWindowStorage(() => now);
  });
  afterEach(() => storage.onModuleDestroy());

  it('allows `limit` requests in a window, then refuses with the seconds to wait', async () => {
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await hit());
    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, true, true]);
    expect(results[2]).toMatchObject({ totalHits: 3, timeToExpire: 60 });
    now += 20_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 40 });
  });

  it('counts each key on its own', async () => {
    for (let i = 0; i < 3; i += 1) await hit('number:+1');
    expect((await hit('number:+1')).isBlocked).toBe(true);
    expect((await hit('number:+2')).isBlocked).toBe(false);
  });

  it('weighs the previous window by how much of it the sliding window still covers', async () => {
    for (let i = 0; i < 4; i += 1) await hit('k', 4); // a full previous window
    now += MINUTE + MINUTE / 4; // 3/4 of it still inside: 3 hits count
    expect((await hit('k', 4)).isBlocked).toBe(false); // 3 + 1
    expect((await hit('k', 4)).isBlocked).toBe(true);
    now += MINUTE / 2; // 1/4 left: 1 + 1 current
    expect((await hit('k', 4)).isBlocked).toBe(false);
    now += 2 * MINUTE; // both windows gone
    for (let i = 0; i < 4; i += 1) expect((await hit('k', 4)).isBlocked).toBe(false);
  });

  it('keeps constant memory per key however many requests it counts, and forgets idle keys', async () => {
    for (let i = 0; i < 100_000; i += 1) await hit('busy', 1_000_000);
    expect(storage.size).toBe(1);
    expect((await hit('busy', 1_000_000)).totalHits).toBe(100_001);
    now += 2 * MINUTE;
    storage.sweep();
    expect(storage.size).toBe(0);
  });
});
