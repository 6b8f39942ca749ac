/**
 * Swagger UI as the support person uses it, in headless Chromium (Debian's package driven by
 * playwright-core): authorize with an API key, "Try it out" on the SMS channel status, and read the
 * rendered response. Saves a screenshot under test/artifacts/. Skipped (saying so) only when no
 * Chromium is installed outside CI; under CI it must run (.ci/run installs chromium).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './support/app-process';
import {
  connectChannel,
  ConnectedChannel,
  SmsTestContext,
  startSmsTestApp,
} from './support/sms-fixtures';

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
  const operation = page.locator('#operations-sms_channel-SmsChannelController_status');
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
