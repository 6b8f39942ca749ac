/**
 * Comparison server "quickstart": Twilio's own quickstart for receiving an SMS in Node — Express,
 * the SDK's `twilio.webhook()` validation middleware and an inline TwiML reply. Nothing is stored
 * and nothing is queued, so a crash loses the message; it is the speed customers compare us with.
 *
 * Env: PORT, PUBLIC_BASE_URL (the signed URL's origin: the middleware would otherwise rebuild the
 * URL from the Host header), QUICKSTART_AUTH_TOKEN (the one account it answers for).
 */
import express from 'express';
import twilio from 'twilio';

const WEBHOOK_PATH = '/api/webhooks/twilio/sms';
const port = Number(process.env.PORT ?? 0);
const authToken = process.env.QUICKSTART_AUTH_TOKEN;
const publicBaseUrl = process.env.PUBLIC_BASE_URL;
if (!authToken || !publicBaseUrl) {
  throw new Error('QUICKSTART_AUTH_TOKEN and PUBLIC_BASE_URL are required');
}

const app = express();
app.use(express.urlencoded({ extended: false }));
app.post(
  WEBHOOK_PATH,
  twilio.webhook(authToken, { url: publicBaseUrl + WEBHOOK_PATH }),
  (_request, response) => {
    const twiml = new twilio.twiml.MessagingResponse();
    twiml.message('Thanks for your message! We will get back to you shortly.');
    response.type('text/xml').send(twiml.toString());
  },
);

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ msg: 'listening', server: 'quickstart', port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
