/**
 * `npm run demo`: the main job of the SMS channel without a Twilio account. Starts the Twilio
 * double (a local emulator of Twilio's REST API and webhooks) and the app on a throwaway embedded
 * database, connects a demo channel through the real HTTP API, lets a customer "text" the number,
 * and prints what happened at each step; then keeps running for exploring in Swagger until Ctrl-C.
 * `npm run demo -- --messaging-service` puts the number in a Messaging Service with its own
 * inbound settings (an A2P 10DLC number): connect finds it and points the service at the app,
 * and the reply is sent through it.
 */
import { randomBytes } from 'node:crypto';
import { createApplication, RunningApplication } from '../src/bootstrap';
import { ConfigError, loadConfigWith } from '../src/config/app-config';
import { DemoOrganization, seedDemoOrganization } from '../src/dev/demo-organization';
import { TwilioDouble } from './twilio-double';

const TWILIO_NUMBER = '+358401234567';
const CUSTOMER_NUMBER = '+358501234567';
const CUSTOMER_MESSAGE = 'Hi! When are you open on Saturday?';
const MESSAGING_SERVICE_FLAG = '--messaging-service';

interface InboxMessage {
  direction: string;
  author: string;
  body: string;
  deliveryStatus: string;
}

const say = (line = '') => process.stdout.write(line + '\n');

async function call<T>(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function poll<T>(
  what: string,
  check: () => Promise<T | null>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function converse(
  baseUrl: string,
  twilio: TwilioDouble,
  demo: DemoOrganization,
  withMessagingService: boolean,
): Promise<void> {
  const { sid: accountSid, authToken } = twilio.addAccount({ friendlyName: 'Demo Twilio account' });
  twilio.addNumber(accountSid, { phoneNumber: TWILIO_NUMBER, friendlyName: 'Demo number' });
  if (withMessagingService) {
    const service = twilio.addMessagingService(accountSid, {
      friendlyName: 'Demo 10DLC service',
      usA2pRegistered: true,
    });
    twilio.addNumberToMessagingService(service.sid, TWILIO_NUMBER);
  }
  const channel = await call<{
    webhookUrl: string;
    messagingService: { sid: string; friendlyName: string; inboundWebhook: string } | null;
  }>(baseUrl, demo.apiKey, 'PUT', `/api/chatbots/${demo.chatbotId}/channels/sms`, {
    accountSid,
    authToken,
    phoneNumber: TWILIO_NUMBER,
    configureWebhook: true,
  });
  say(`Twilio emulator   ${twilio.url}   (account ${accountSid}, number ${TWILIO_NUMBER})`);
  const service = channel.messagingService;
  if (service) {
    say(
      `Messaging Service ${service.sid} ("${service.friendlyName}") holds the number; its inbound URL (Twilio reads the ${service.inboundWebhook}'s) is ${channel.webhookUrl}`,
    );
  } else {
    say(`Channel           connected; the number's webhook is ${channel.webhookUrl}`);
  }
  say();

  say(`Customer ${CUSTOMER_NUMBER} texts ${TWILIO_NUMBER}: "${CUSTOMER_MESSAGE}"`);
  const webhook = await twilio.sendInboundMessage({
    to: TWILIO_NUMBER,
    from: CUSTOMER_NUMBER,
    body: CUSTOMER_MESSAGE,
  });
  say(`Signed webhook    answered ${webhook.status} ${webhook.body}`);
  const [reply] = await twilio.waitForMessages(1, 30_000);
  say(
    `Twilio received   Messages.create from ${reply.from} to ${reply.to} (${reply.sid}, ${reply.numSegments} segment(s)):`,
  );
  say(`                  "${reply.body}"`);
  if (reply.messagingServiceSid) {
    say(`                  through Messaging Service ${reply.messagingServiceSid}`);
  }
  await twilio.sendStatusCallback(reply.sid, 'sent');
  await twilio.sendStatusCallback(reply.sid, 'delivered');

  const conversation = await poll('the delivered reply in the inbox', async () => {
    const page = await call<{ items: { id: string }[] }>(
      baseUrl,
      demo.apiKey,
      'GET',
      `/api/chatbots/${demo.chatbotId}/conversations?channel=sms`,
    );
    if (!page.items.length) return null;
    const detail = await call<{ id: string; status: string; messages: InboxMessage[] }>(
      baseUrl,
      demo.apiKey,
      'GET',
      `/api/conversations/${page.items[0].id}`,
    );
    const outbound = detail.messages.find((m) => m.direction === 'outbound');
    return outbound?.deliveryStatus === 'delivered' ? detail : null;
  });
  say(`Delivery status   delivered (Twilio's status callback, signed, reached the app)`);
  say(`Inbox             conversation ${conversation.id}, status ${conversation.status}:`);
  for (const message of conversation.messages) {
    const who = `${message.direction} ${message.author}`.padEnd(17);
    say(`  ${who} ${message.body}   [${message.deliveryStatus}]`);
  }
  say();
  say('Explore:');
  say(`  Swagger UI      ${baseUrl}/api/docs   (click "Authorize" and paste the API key)`);
  say(`  Demo API key    ${demo.apiKey}`);
  say("  Text the number again, as Twilio would (signed with the emulator account's token):");
  say(
    `    npm run sms:simulate -- --url ${baseUrl} --api-key ${demo.apiKey} --auth-token ${authToken} --to ${TWILIO_NUMBER} --from ${CUSTOMER_NUMBER} --body "Do you deliver to Tampere?"`,
  );
  say('Press Ctrl-C to stop.');
}

async function main(): Promise<void> {
  const twilio = await TwilioDouble.start();
  let running: RunningApplication | null = null;
  const stop = (signal: string) => {
    say(`\n${signal}: stopping the app and the Twilio emulator`);
    setTimeout(() => process.exit(1), 9_000).unref();
    Promise.all([running?.close(), twilio.stop()]).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`demo: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  // A throwaway database and key: the demo writes nothing to disk and never meets real Twilio.
  const pinned = {
    DATABASE_URL: '',
    PGLITE_DATA_DIR: 'memory://',
    CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: '',
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_MESSAGING_API_BASE_URL: twilio.url,
    SENTRY_DSN: '',
    QUEUE_POLL_SECONDS: '1',
  };
  const quiet = { LOG_LEVEL: 'error' };
  const { port } = loadConfigWith(pinned, quiet);
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfigWith({ ...pinned, PUBLIC_BASE_URL: baseUrl }, quiet);
  if (config.nodeEnv === 'production') {
    throw new ConfigError('NODE_ENV', 'is production: the demo only runs in development');
  }
  say('SMS channel demo: the app and a local Twilio emulator, no Twilio account needed.');
  running = await createApplication(config);
  await running.app.listen(port, '127.0.0.1');
  const demo = (await seedDemoOrganization(running.app))!;
  say(`App               ${baseUrl} (embedded PostgreSQL in memory)`);
  await converse(baseUrl, twilio, demo, process.argv.includes(MESSAGING_SERVICE_FLAG));
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    /EADDRINUSE/.test(message)
      ? `demo: ${message}; is \`npm start\` running? Try PORT=3001 npm run demo\n`
      : `demo: ${message}\n`,
  );
  process.exit(1);
});
