/** The Twilio double lives in src/dev/ (a dev tool too: `npm run demo`); tests import it here. */
export * from '../../src/dev/twilio-double/twilio-double';
