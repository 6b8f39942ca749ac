/**
 * Swagger UI as the support person uses it, in headless Chromium (Debian's package driven by
 * playwright-core): authorize with an API key, "Try it out" on the SMS channel status, on the
 * conversations list (nothing pre-filled hides a conversation) and on a write (create a chatbot
 * from the example body), and read the rendered responses. Saves a screenshot under test/artifacts/. Skipped (saying so) only when no
 * Chromium is installed outside CI; under CI it must run (.ci/run installs chromium).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './support/app-process';
import {
  connectChannel,
  ConnectedChannel,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { authed } from './support/test-app';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => Boolean(path && existsSync(path)),
);
const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts');

if (!CHROMIUM && !process.env.CI) {
  process.stderr.write(
    'swagger-ui.e2e-spec: SKIPPED, no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)\n',
  );
}

(CHROMIUM || process.env.CI ? describe : describe.skip)('Swagger UI in headless Chromium', () => {
  let ctx: SmsTestContext;
  let channel: ConnectedChannel;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!CHROMIUM)
      throw new Error('CI=true but no Chromium at /usr/bin/chromium (or CHROMIUM_PATH)');
    ctx = await startSmsTestApp();
    channel = await connectChannel(ctx);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('authorizes with an API key and runs "Try it out" on GET channel status', async () => {
    await page.goto(`${ctx.t.baseUrl}/api/docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input').first().fill(channel.apiKey);
    await dialog.locator('button.authorize').click();
    await expectVisible(dialog.getByText('Logout'));
    await dialog.locator('button.btn-done').click();

    const { operation, body } = await tryChannelStatus(page, channel.chatbotId, '200');
    expect(JSON.parse(body)).toEqual(
      expect.objectContaining({
        connected: true,
        accountSid: channel.accountSid,
        phoneNumber: channel.phoneNumber,
        webhookUrl: `${ctx.t.config.publicBaseUrl}/api/webhooks/twilio/sms`,
      }),
    );
    expect(body).not.toContain(channel.authToken);
    // The request really carried the key: the curl Swagger shows has the bearer header.
    expect(await operation.locator('.curl-command').innerText()).toContain(
      `Authorization: Bearer ${channel.apiKey}`,
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await operation.screenshot({ path: join(ARTIFACTS, 'swagger-try-it-out.png') });
  });

  /** A fresh page of Swagger UI, authorized with the channel's API key. */
  async function authorizedPage(): Promise<Page> {
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await fresh.goto(`${ctx.t.baseUrl}/api/docs`);
    await fresh.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = fresh.locator('.modal-ux');
    await dialog.locator('input').first().fill(channel.apiKey);
    await dialog.locator('button.authorize').click();
    await expectVisible(dialog.getByText('Logout'));
    await dialog.locator('button.btn-done').click();
    return fresh;
  }

  it('lists the conversations from a fresh page: no status or cursor pre-filled hides them', async () => {
    const customer = randomNumber();
    await textFromCustomer(ctx, channel, customer, 'Do you ship to Oulu?');
    await eventually(async () => {
      const res = await authed(ctx.t.http, channel.apiKey).get(
        `/api/chatbots/${channel.chatbotId}/conversations`,
      );
      return res.body.items?.length ? res.body : null;
    });
    const fresh = await authorizedPage();
    const operation = fresh.locator('#operations-inbox-listConversations');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.locator('input[placeholder="chatbotId"]').fill(channel.chatbotId);
    for (const name of ['cursor'])
      expect(await operation.locator(`input[placeholder="${name}"]`).inputValue()).toBe('');
    // The status filter is a select: "--" (nothing) unless someone picks one.
    const status = operation.locator('tr[data-param-name="status"] select');
    if (await status.count()) expect(await status.inputValue()).toMatch(/^(--)?$/);
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table');
    await expectVisible(live.locator('.response-col_status', { hasText: '200' }));
    const body = JSON.parse(
      await live.locator('.response-col_description pre').first().innerText(),
    );
    expect(body.items.map((c: { customerNumber: string }) => c.customerNumber)).toContain(customer);
    await fresh.close();
  });

  it('creates a chatbot from the example body in Try it out (a write), with no Idempotency-Key pre-filled', async () => {
    const fresh = await authorizedPage();
    const operation = fresh.locator('#operations-chatbots-createChatbot');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const key = operation.locator('input[placeholder="Idempotency-Key"]');
    if (await key.count()) expect(await key.inputValue()).toBe('');
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table');
    await expectVisible(live.locator('.response-col_status', { hasText: '201' }));
    const created = JSON.parse(
      await live.locator('.response-col_description pre').first().innerText(),
    );
    await authed(ctx.t.http, channel.apiKey).get(`/api/chatbots/${created.id}`).expect(200);
    await fresh.close();
  });

  it('without authorizing, the same call shows the 401 with its code', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${ctx.t.baseUrl}/api/docs`);
    const { body } = await tryChannelStatus(fresh, channel.chatbotId, '401');
    expect(body).toContain('"UNAUTHORIZED"');
    await fresh.close();
  });
});

/** Opens GET channel status, "Try it out" with the chatbot id, Execute; the rendered answer. */
async function tryChannelStatus(page: Page, chatbotId: string, expectedStatus: string) {
  const operation = page.locator('#operations-sms_channel-getSmsChannelStatus');
  await operation.locator('.opblock-summary').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.locator('input[placeholder="chatbotId"]').fill(chatbotId);
  await operation.getByRole('button', { name: 'Execute' }).click();
  const live = operation.locator('.live-responses-table');
  await expectVisible(live.locator('.response-col_status', { hasText: expectedStatus }));
  const body = await live.locator('.response-col_description pre').first().innerText();
  return { operation, body };
}

async function expectVisible(locator: ReturnType<Page['locator']>): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: 15_000 });
}
