/**
 * Group commit for completions: one statement in flight; ids added meanwhile go together in the
 * next one. Each add() settles with the statement that carried its id.
 */
export class Completion {
  private waiting: { id: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = false;

  constructor(private readonly run: (ids: string[]) => Promise<unknown>) {}

  add(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.run(batch.map((entry) => entry.id));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.inFlight = false;
  }
}
