// Loaded first by main.ts: Sentry must instrument modules before they are imported.
import { initSentry } from './config/sentry';

// eslint-disable-next-line no-restricted-syntax -- the one env read that must precede config loading
initSentry(process.env.SENTRY_DSN, process.env.NODE_ENV);
