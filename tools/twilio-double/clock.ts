/**
 * Twilio's clock, which a real Twilio's may be ahead of or behind ours: every date the double
 * renders (`date_created`, `date_sent`, `date_updated`), the `DateSent` list filters and the HTTP
 * `Date` header of its answers come from here.
 */
export class TwilioClock {
  /** Twilio's clock minus ours. */
  skewMs = 0;

  now(): number {
    return Date.now() + this.skewMs;
  }
}
