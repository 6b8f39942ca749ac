/**
 * Counts the statements an in-process app sends to its database, at the driver: every query of
 * TypeORM, of our prepared statements and of pg-boss goes through `pg`'s Client.query, on the
 * embedded database and on PostgreSQL alike. Nothing of ours is replaced: the real method runs.
 */
import { Client } from 'pg';

export interface QueryRecorder {
  /** The text of every statement sent while recording. */
  texts: string[];
  /** The statements a request made, without pg-boss's own background polling. */
  requestQueries(): string[];
  stop(): void;
}

export function recordQueries(): QueryRecorder {
  const texts: string[] = [];
  const prototype = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: Client, ...args: unknown[]) {
    const [config] = args;
    texts.push(typeof config === 'string' ? config : String((config as { text?: string })?.text));
    return original.apply(this, args);
  };
  return {
    texts,
    // pg-boss's timers (fetch, maintenance) name its schema; a webhook's own statements that
    // queue a job do too, but a refused request never gets that far.
    requestQueries: () => texts.filter((text) => !text.includes('pgboss')),
    stop: () => {
      prototype.query = original;
    },
  };
}
