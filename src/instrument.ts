// Loaded first by main.ts: Sentry must instrument modules before they are imported.
import { isSentryDsn } from './config/app-config';
import { initSentry } from './config/sentry';

// eslint-disable-next-line no-restricted-syntax -- the one env read that must precede config loading
const { SENTRY_DSN: dsn, NODE_ENV: environment } = process.env;
// The SDK would print a malformed DSN; loadConfig() refuses it in one line that does not.
initSentry(dsn && isSentryDsn(dsn) ? dsn : undefined, environment);
