import { Completion } from './completion';

/** A statement we finish by hand: what each run was given, and a way to end it. */
function statements() {
  const runs: { ids: string[]; finish: (error?: Error) => void }[] = [];
  const run = (ids: string[]) =>
    new Promise<void>((resolve, reject) => {
      runs.push({ ids, finish: (error) => (error ? reject(error) : resolve()) });
    });
  return { runs, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Completion: completions batched like a group commit', () => {
  it('starts at once when nothing is in flight, and sends what came meanwhile in one statement', async () => {
    const { runs, run } = statements();
    const completion = new Completion(run);
    const first = completion.add('a');
    await tick();
    expect(runs.map((r) => r.ids)).toEqual([['a']]);
    const later = [completion.add('b'), completion.add('c'), completion.add('d')];
    await tick();
    expect(runs).toHaveLength(1);
    runs[0].finish();
    await first;
    await tick();
    expect(runs.map((r) => r.ids)).toEqual([['a'], ['b', 'c', 'd']]);
    runs[1].finish();
    await Promise.all(later);
  });

  it('a failed statement fails only the ids it carried; the next batch still runs', async () => {
    const { runs, run } = statements();
    const completion = new Completion(run);
    const failed = completion.add('a');
    await tick();
    const next = completion.add('b');
    runs[0].finish(new Error('connection terminated'));
    await expect(failed).rejects.toThrow('connection terminated');
    await tick();
    expect(runs[1].ids).toEqual(['b']);
    runs[1].finish();
    await expect(next).resolves.toBeUndefined();
  });
});
