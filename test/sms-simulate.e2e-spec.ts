/**
 * `npm run sms:simulate` as a real process against a running app: a correctly signed webhook is
 * accepted and stored, a wrong token is refused with 403, both printed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './support/app-process';
import {
  connectChannel,
  ConnectedChannel,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';
import { authed, TEST_PUBLIC_BASE_URL } from './support/test-app';

const run = promisify(execFile);

async function simulate(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/sms-simulate.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run sms:simulate', () => {
  let ctx: SmsTestContext;
  let channel: ConnectedChannel;

  beforeAll(async () => {
    ctx = await startSmsTestApp();
    channel = await connectChannel(ctx);
  });
  afterAll(() => ctx.close());

  const conversations = async () =>
    (
      await authed(ctx.t.http, channel.apiKey)
        .get(`/api/chatbots/${channel.chatbotId}/conversations`)
        .expect(200)
    ).body.items as { customerNumber: string; lastMessagePreview: string }[];

  it('looks the channel up with the API key, signs for PUBLIC_BASE_URL, and the message is stored', async () => {
    const customer = randomNumber();
    const result = await simulate(
      '--url',
      ctx.t.baseUrl,
      '--api-key',
      channel.apiKey,
      '--auth-token',
      channel.authToken,
      '--to',
      channel.phoneNumber,
      '--from',
      customer,
      '--body',
      'When are you open?',
    );
    expect(result).toEqual(expect.objectContaining({ code: 0 }));
    // The app sits "behind a proxy": it is reached on loopback but checks the public URL.
    expect(result.stdout).toContain(`POST ${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`);
    expect(result.stdout).toMatch(/HTTP 200 .*<Response\/>/);
    expect(await conversations()).toContainEqual(
      expect.objectContaining({ customerNumber: customer, lastMessagePreview: expect.any(String) }),
    );
    // ...and the agent answered through Twilio.
    await ctx.twilio.waitForMessages(1, 15_000, (m) => m.to === customer);
  });

  it('prints the 403 for a wrong token, exits 1, and nothing is stored', async () => {
    const customer = randomNumber();
    const result = await simulate(
      '--url',
      ctx.t.baseUrl,
      '--webhook-url',
      `${TEST_PUBLIC_BASE_URL}/api/webhooks/twilio/sms`,
      '--account-sid',
      channel.accountSid,
      '--auth-token',
      'f'.repeat(32),
      '--to',
      channel.phoneNumber,
      '--from',
      customer,
      '--body',
      'Hello?',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/HTTP 403 .*TWILIO_SIGNATURE_INVALID/);
    expect(result.stdout).toContain('PUBLIC_BASE_URL must be the origin Twilio posts to');
    expect((await conversations()).map((c) => c.customerNumber)).not.toContain(customer);
  });

  it('a signature for the loopback URL is refused: the app checks the public one', async () => {
    const result = await simulate(
      '--url',
      ctx.t.baseUrl,
      '--account-sid',
      channel.accountSid,
      '--auth-token',
      channel.authToken,
      '--to',
      channel.phoneNumber,
      '--from',
      randomNumber(),
      '--body',
      'Hello?',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/HTTP 403/);
  });

  it('--help prints every option and exits 0', async () => {
    const result = await simulate('--help');
    expect(result.code).toBe(0);
    for (const option of ['--to', '--from', '--body', '--auth-token', '--url', '--api-key'])
      expect(result.stdout).toContain(option);
    expect(result.stdout).toMatch(/^Usage: npm run sms:simulate -- /);
  });

  it('explains what is missing', async () => {
    const result = await simulate(
      '--to',
      '0401234567',
      '--from',
      '+358501234567',
      '--body',
      'x',
      '--auth-token',
      't',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--to must be an E.164 number such as +358401234567');
  });
});
