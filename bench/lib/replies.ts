/**
 * Watches the replies the app sends through the Twilio double (Messages.create) and matches them
 * to the webhooks that caused them by the customer's number: every tracked webhook comes from a
 * number used for nothing else, so a reply's `To` names the webhook it answers.
 */
import { performance } from 'node:perf_hooks';
import type { RecordedMessage, TwilioDouble } from '../../tools/twilio-double';

interface Tracked {
  /** performance.now() of each webhook sent from this number. */
  sent: number[];
  /** performance.now() of each reply that arrived for this number. */
  replies: number[];
}

export class ReplyTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners = new Set<() => void>();

  constructor(twilio: TwilioDouble) {
    twilio.onMessage((message: RecordedMessage) => {
      const entry = this.tracked.get(message.to);
      if (!entry) return;
      entry.replies.push(performance.now());
      for (const listener of this.listeners) listener();
    });
  }

  sent(customer: string, at: number): void {
    const entry = this.tracked.get(customer) ?? { sent: [], replies: [] };
    entry.sent.push(at);
    this.tracked.set(customer, entry);
  }

  replies(customer: string): number[] {
    return this.tracked.get(customer)?.replies ?? [];
  }

  /** Resolves true once `done()` holds, false after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const check = () => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  /**
   * For webhooks sent one per customer: end-to-end latencies (first reply − send), and how many
   * customers got no reply (so far) or more than one.
   */
  summarize(customers: string[]): {
    latencies: number[];
    unanswered: number;
    answeredTwice: number;
  } {
    const latencies: number[] = [];
    let unanswered = 0;
    let answeredTwice = 0;
    for (const customer of customers) {
      const entry = this.tracked.get(customer);
      if (!entry || entry.replies.length === 0) {
        unanswered += 1;
        continue;
      }
      if (entry.replies.length > 1) answeredTwice += 1;
      latencies.push(entry.replies[0] - entry.sent[0]);
    }
    return { latencies, unanswered, answeredTwice };
  }
}
