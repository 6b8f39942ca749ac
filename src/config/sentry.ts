/**
 * Sentry set-up, loaded by src/instrument.ts before anything else. Without SENTRY_DSN the SDK is
 * never initialised: no network, no overhead. beforeSend scrubs every event so no credential and
 * no message body leaves the process.
 */
import * as Sentry from '@sentry/nestjs';
import type { ErrorEvent } from '@sentry/nestjs';

const SECRET_KEY =
  /token|secret|password|authorization|cookie|api[-_]?key|signature|^body$|^message_body$|^parameters$/i;
const SECRET_VALUE = [
  /sk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}/g, // our API keys
  /(?<![A-Za-z0-9])[0-9a-fA-F]{32}(?![A-Za-z0-9])/g, // a bare 32-hex Twilio Auth Token
  /Basic\s+[A-Za-z0-9+/=]+/g,
  /Bearer\s+\S+/g,
];

export function scrubValue(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[TRUNCATED]';
  if (typeof value === 'string') {
    return SECRET_VALUE.reduce((text, pattern) => text.replace(pattern, '[REDACTED]'), value);
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[REDACTED]' : scrubValue(inner, depth + 1);
    }
    return out;
  }
  return value;
}

export function scrubEvent(event: ErrorEvent): ErrorEvent {
  if (event.request) {
    delete event.request.data;
    delete event.request.cookies;
    delete event.request.headers;
    delete event.request.query_string;
  }
  return scrubValue(event) as ErrorEvent;
}

export function initSentry(dsn: string | undefined, environment: string | undefined): void {
  if (!dsn) return;
  Sentry.init({
    dsn,
    environment: environment || 'development',
    sendDefaultPii: false,
    tracesSampleRate: 0,
    beforeSend: scrubEvent,
    beforeBreadcrumb: (breadcrumb) => scrubValue(breadcrumb) as typeof breadcrumb,
  });
}
