/**
 * The dashboard's build, in CI: a client generated from the committed openapi.json with
 * openapi-typescript, and test/client/dashboard-flow.ts (create chatbot, add knowledge, connect
 * SMS, list conversations, a human reply with an Idempotency-Key) type-checked against it with
 * tsc; a contract change that breaks that script fails here. Then the script runs against the
 * real app and the Twilio double.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './support/app-process';
import {
  countRows,
  eventually,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';

const run = promisify(execFile);

/**
 * The flow's signature as this spec calls it. The script is loaded at run time, not imported:
 * its types come from the generated client, which exists only once this spec has made it, and
 * `npm run typecheck` runs before any test.
 */
type DashboardFlow = (
  baseUrl: string,
  apiKey: string,
  twilio: { accountSid: string; authToken: string; phoneNumber: string },
  customerTexts: (phoneNumber: string) => Promise<void>,
  idempotencyKey: string,
) => Promise<{
  conversations: { id: string; customerNumber: string }[];
  reply: unknown;
  replayed: unknown;
}>;
const FLOW_MODULE = './client/dashboard-flow';
const CLIENT = join(REPO_ROOT, 'test', 'client');
const GENERATED = join(CLIENT, 'generated');

/** openapi-typescript on `document`, into `<dir>/generated/openapi.ts`. */
const generate = (document: string, dir: string) =>
  run(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules/openapi-typescript/bin/cli.js'),
      document,
      '-o',
      join(dir, 'generated', 'openapi.ts'),
    ],
    { cwd: REPO_ROOT },
  );

/** tsc --noEmit on a tsconfig; its diagnostics, empty when the script type-checks. */
const typecheck = (tsconfig: string) =>
  run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    cwd: REPO_ROOT,
  }).then(
    () => '',
    (error: { stdout?: string }) => error.stdout || String(error),
  );

describe('the dashboard client generated from openapi.json', () => {
  afterAll(() => rmSync(join(GENERATED, 'broken'), { recursive: true, force: true }));

  it('generates with openapi-typescript and type-checks the main flow with tsc', async () => {
    await generate(join(REPO_ROOT, 'openapi.json'), CLIENT);
    expect(await typecheck(join(CLIENT, 'tsconfig.json'))).toBe('');
  }, 120_000);

  it('fails to type-check when the contract breaks the flow (a renamed field)', async () => {
    const broken = join(GENERATED, 'broken');
    mkdirSync(join(broken, 'generated'), { recursive: true });
    const document = JSON.parse(readFileSync(join(REPO_ROOT, 'openapi.json'), 'utf8'));
    const page = document.components.schemas.ConversationPage;
    page.properties.results = page.properties.items;
    delete page.properties.items;
    page.required = page.required.map((name: string) => (name === 'items' ? 'results' : name));
    writeFileSync(join(broken, 'openapi.json'), JSON.stringify(document));
    await generate(join(broken, 'openapi.json'), broken);
    copyFileSync(join(CLIENT, 'dashboard-flow.ts'), join(broken, 'dashboard-flow.ts'));
    copyFileSync(join(CLIENT, 'tsconfig.json'), join(broken, 'tsconfig.json'));
    expect(await typecheck(join(broken, 'tsconfig.json'))).toMatch(
      /dashboard-flow\.ts.*Property 'items' does not exist/,
    );
  }, 120_000);

  describe('run against the app and the Twilio double', () => {
    let ctx: SmsTestContext;
    beforeAll(async () => {
      ctx = await startSmsTestApp();
    });
    afterAll(() => ctx.close());

    it('creates, connects, lists and replies once for two sends with one Idempotency-Key', async () => {
      const { apiKey } = await ctx.t.createOrganization('starter');
      const { sid: accountSid, authToken } = ctx.twilio.addAccount();
      const phoneNumber = randomNumber();
      ctx.twilio.addNumber(accountSid, { phoneNumber });
      const customer = randomNumber();
      const { dashboardFlow } = (await import(FLOW_MODULE)) as { dashboardFlow: DashboardFlow };
      const result = await dashboardFlow(
        ctx.t.baseUrl,
        apiKey,
        { accountSid, authToken, phoneNumber },
        async (to) => {
          await textFromCustomer(ctx, { phoneNumber: to }, customer, 'Do you ship to Oulu?');
          await eventually(() =>
            countRows(ctx, 'conversations WHERE customer_number = $1', [customer]),
          );
        },
        randomUUID(),
      );
      expect(result.conversations.map((c) => c.customerNumber)).toEqual([customer]);
      expect(result.replayed).toEqual(result.reply);
      const fromAnna = (m: { to: string; body: string }) =>
        m.to === customer && m.body.startsWith('Hi, this is Anna');
      await ctx.twilio.waitForMessages(1, 10_000, fromAnna);
      expect(
        await countRows(ctx, "messages WHERE author = 'agent' AND conversation_id = $1", [
          result.conversations[0].id,
        ]),
      ).toBe(1);
      expect(ctx.twilio.messages.filter(fromAnna)).toHaveLength(1);
    });
  });
});
