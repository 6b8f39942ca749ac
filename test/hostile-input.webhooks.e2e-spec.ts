/**
 * Hostile input (test/support/hostile-input.ts holds the properties every request is held to).
 * Twilio webhooks: unsigned, forged and misaddressed requests, and validly signed inbound
 * messages and status callbacks with hostile values.
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import {
  asStoredByPostgres,
  decodeFormBody,
  formBody,
  nastyString,
  stringWithNul,
} from './support/fuzz-arbitraries';
import {
  contractProblems,
  ctx,
  expectHandled,
  fx,
  send,
  STATUS_PATH,
  useHostileInputApp,
  WEBHOOK_PATH,
} from './support/hostile-input';
import { randomMessageSid, randomNumber } from './support/sms-fixtures';
import { TEST_PUBLIC_BASE_URL } from './support/test-app';

describe('hostile input (property-based, seeded): webhooks', () => {
  useHostileInputApp('webhooks');

  describe('Twilio webhooks', () => {
    const TWILIO_KEYS = [
      'MessageSid',
      'SmsSid',
      'AccountSid',
      'MessagingServiceSid',
      'From',
      'To',
      'Body',
      'NumMedia',
      'NumSegments',
      'MediaUrl0',
      'MediaContentType0',
      'OptOutType',
      'MessageStatus',
      'ErrorCode',
      'FromCountry',
      'ApiVersion',
    ];
    const extraKey = fc.oneof(
      fc.constantFrom('toString', 'hasOwnProperty', 'constructor', 'valueOf', 'Body2', 'x'),
      fc.string({ unit: fc.constantFrom(...'abcXYZ019_'), minLength: 1, maxLength: 10 }),
    );

    /** A form body signed with the channel's token over exactly the params the server decodes. */
    const signed = (path: string, entries: [string, string][], rawTail = '') => {
      const body = formBody(entries) + rawTail;
      const params = decodeFormBody(body);
      return {
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(
            fx.channel.authToken,
            `${TEST_PUBLIC_BASE_URL}${path}`,
            params,
          ),
        },
        body,
      };
    };

    const storedInbound = async (sid: string) =>
      (await ctx.t.running.app
        .get(DataSource)
        .query('SELECT body, organization_id FROM messages WHERE twilio_sid = $1', [sid])) as {
        body: string;
        organization_id: string;
      }[];

    it('unsigned, forged or misaddressed webhooks: 403 (or another 4xx) in the contract shape, nothing stored', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(WEBHOOK_PATH, STATUS_PATH),
          fc.dictionary(fc.constantFrom(...TWILIO_KEYS), nastyString(), { maxKeys: 6 }),
          fc.oneof(fc.constant(null), nastyString()),
          fc.constantFrom('none', 'junk', 'wrong token', 'other params', 'other url'),
          async (path, params, number, signature) => {
            const numberField = path === STATUS_PATH ? 'From' : 'To';
            const fields: Record<string, string> = {
              AccountSid: fx.channel.accountSid,
              ...params,
              [numberField]: number ?? fx.channel.phoneNumber,
            };
            const body = formBody(Object.entries(fields));
            const decoded = decodeFormBody(body);
            const sign = (token: string, url: string, p: Record<string, string>) =>
              twilio.getExpectedTwilioSignature(token, url, p);
            const header = {
              none: undefined,
              junk: 'not-a-signature',
              'wrong token': sign('0'.repeat(32), `${TEST_PUBLIC_BASE_URL}${path}`, decoded),
              'other params': sign(fx.channel.authToken, `${TEST_PUBLIC_BASE_URL}${path}`, {
                ...decoded,
                Body: `${decoded.Body ?? ''}!`,
              }),
              'other url': sign(fx.channel.authToken, `${ctx.t.baseUrl}${path}`, decoded),
            }[signature];
            const response = await expectHandled(
              {
                method: 'POST',
                path,
                headers: {
                  'content-type': 'application/x-www-form-urlencoded',
                  'x-twilio-signature': header,
                },
                body,
              },
              { unchangedOnSuccess: true },
            );
            if (response.status < 400)
              throw new Error(`an unsigned webhook answered ${response.status}`);
          },
        ),
        {
          numRuns: 30,
          // Always tried: a NUL in the number, which must not reach the database.
          examples: [[WEBHOOK_PATH, {}, '+1555\u0000', 'junk']],
        },
      );
    });

    it('a validly signed inbound webhook with hostile Body/From/… values is stored (200) or refused (4xx), never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              From: fc.oneof(
                fc.constant('VALID').map(() => randomNumber()),
                fc.constantFrom(
                  '+1',
                  '+0123456789',
                  '12025550123',
                  '+1202555012345678',
                  'ACME',
                  '72345',
                  'My Bank',
                  '',
                ),
                fc.constant('OWN').map(() => fx.channel.phoneNumber),
                nastyString({ withNul: false }),
              ),
              Body: fc.oneof(
                nastyString({ withNul: false, maxPieces: 10 }),
                fc.constantFrom(
                  'a'.repeat(9_999) + '😀',
                  '😀'.repeat(5_001),
                  'STOP',
                  'START',
                  'HELP',
                  '',
                ),
              ),
              NumMedia: fc.oneof(
                fc.constantFrom('0', '1', '10', '-1', '1e400', 'NaN', '99999999999999999999'),
                nastyString({ withNul: false }),
              ),
              MediaUrl0: nastyString({ withNul: false }),
              OptOutType: fc.oneof(
                fc.constantFrom('STOP', 'START', 'HELP', 'stop', 'constructor', '__proto__'),
                nastyString({ withNul: false }),
              ),
            },
            { requiredKeys: ['From', 'Body'] },
          ),
          fc.array(fc.tuple(extraKey, nastyString({ withNul: false })), { maxLength: 3 }),
          fc.constantFrom('SM', 'MM', 'hostile'),
          async (hostile, extra, sidKind) => {
            const sid =
              sidKind === 'hostile'
                ? `SM${randomUUID()}`
                : `${sidKind}${randomMessageSid().slice(2)}`;
            const entries: [string, string][] = [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['To', fx.channel.phoneNumber],
              ...(Object.entries(hostile) as [string, string][]),
              ...extra.filter(([key]) => !['MessageSid', 'AccountSid', 'To'].includes(key)),
            ];
            const request = signed(WEBHOOK_PATH, entries);
            const response = await expectHandled(request, { jsonContentType: false });
            const rows = await storedInbound(sid);
            if (response.status === 200) {
              if (rows.length !== 1)
                throw new Error(`200 but ${rows.length} rows stored for ${sid}`);
              const sent = decodeFormBody(request.body);
              expect(rows[0].body).toBe(asStoredByPostgres(sent.Body.slice(0, 10_000)));
              // The sender as Twilio signed it, and no reply unless it is a number we may text.
              const [stored] = await ctx.t.running.app.get(DataSource).query(
                `SELECT c.customer_number,
                   (SELECT count(*)::int FROM pgboss.job j
                    WHERE j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text) AS jobs
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.twilio_sid = $1`,
                [sid],
              );
              expect(stored.customer_number).toBe(asStoredByPostgres(sent.From));
              const replyable =
                /^\+[1-9]\d{6,14}$/.test(sent.From) && sent.From !== fx.channel.phoneNumber;
              if (!replyable && stored.jobs !== 0)
                throw new Error(`a reply was queued for the sender ${JSON.stringify(sent.From)}`);
            } else if (rows.length) {
              throw new Error(`refused with ${response.status} but stored`);
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('a NUL byte, a lone surrogate or invalid UTF-8 in a signed Body is stored (200) or refused (4xx), never a 5xx', async () => {
      // A lone surrogate cannot arrive through a form (it decodes to U+FFFD or stays
      // percent-encoded), nor can a CESU-8 one; both are probed here alongside NUL.
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            stringWithNul.map((body) => ({ body, raw: '' })),
            nastyString().map((body) => ({ body: `${body}\ud800`, raw: '' })),
            fc
              .constantFrom('%ED%A0%80', '%00', '%FF%FE', '%C0%80', '%F4%90%80%80', '%E0%80')
              .map((raw) => ({ body: 'x', raw })),
          ),
          async ({ body, raw }) => {
            const sid = randomMessageSid();
            const entries: [string, string][] = [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['From', randomNumber()],
              ['To', fx.channel.phoneNumber],
              ['Body', body],
            ];
            // `raw` is appended to the encoded Body as is: bytes that are not valid UTF-8.
            const encoded = formBody(entries) + raw;
            const params = decodeFormBody(encoded);
            const request = {
              method: 'POST',
              path: WEBHOOK_PATH,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-twilio-signature': twilio.getExpectedTwilioSignature(
                  fx.channel.authToken,
                  `${TEST_PUBLIC_BASE_URL}${WEBHOOK_PATH}`,
                  params,
                ),
              },
              body: encoded,
            };
            const response = await expectHandled(request, { jsonContentType: false });
            const rows = await storedInbound(sid);
            if (response.status === 200 && rows.length !== 1)
              throw new Error(`200 but ${rows.length} rows stored`);
            if (response.status !== 200 && rows.length) throw new Error('refused but stored');
          },
        ),
        { numRuns: 25 },
      );
    });

    it('a validly signed status callback with hostile MessageSid/MessageStatus/ErrorCode never answers 5xx and changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.constant('VALID').map(() => randomMessageSid()),
            nastyString(),
          ),
          fc.oneof(
            fc.constantFrom(
              'queued',
              'sent',
              'delivered',
              'undelivered',
              'failed',
              'read',
              'received',
              'DELIVERED',
            ),
            fc.constantFrom(
              'constructor',
              '__proto__',
              'toString',
              'hasOwnProperty',
              'valueOf',
              '__defineGetter__',
            ),
            nastyString(),
          ),
          fc.oneof(
            fc.constantFrom(
              '30003',
              '21610',
              '0',
              '-1',
              '2147483647',
              '2147483648',
              '99999999999',
              '1e10',
              '0x10',
              '',
            ),
            nastyString(),
          ),
          async (sid, status, errorCode) => {
            const request = signed(STATUS_PATH, [
              ['MessageSid', sid],
              ['AccountSid', fx.channel.accountSid],
              ['From', fx.channel.phoneNumber],
              ['To', randomNumber()],
              ['MessageStatus', status],
              ['ErrorCode', errorCode],
            ]);
            await expectHandled(request, { jsonContentType: false, unchangedOnSuccess: true });
          },
        ),
        { numRuns: 40 },
      );
    });

    it('each known hostile status callback answers 200 or 4xx (one line per failing input)', async () => {
      const valid = () => randomMessageSid();
      const cases: [string, string, string][] = [
        [valid(), 'constructor', ''],
        [valid(), '__proto__', ''],
        [valid(), 'toString', ''],
        ['SM\u0000', 'delivered', ''],
        [valid(), 'failed', '99999999999'],
        [valid(), 'undelivered', '2147483648'],
        [valid(), 'failed', '-99999999999'],
        [valid(), 'delivered', '\u0000'],
      ];
      const failures: string[] = [];
      for (const [sid, status, errorCode] of cases) {
        const request = signed(STATUS_PATH, [
          ['MessageSid', sid],
          ['AccountSid', fx.channel.accountSid],
          ['From', fx.channel.phoneNumber],
          ['To', randomNumber()],
          ['MessageStatus', status],
          ['ErrorCode', errorCode],
        ]);
        try {
          await expectHandled(request, { jsonContentType: false, unchangedOnSuccess: true });
        } catch (error) {
          failures.push(
            `MessageSid=${JSON.stringify(sid)} MessageStatus=${JSON.stringify(status)} ErrorCode=${JSON.stringify(errorCode)}: ${(error as Error).message.split('\n')[0]}`,
          );
        }
      }
      expect(failures).toEqual([]);
    });

    it("a failed status callback for a MessageSid we never sent leaves the channel's lastError alone", async () => {
      // A SID that is not ours (another app on the same number) must not touch the channel.
      const dataSource = ctx.t.running.app.get(DataSource);
      await dataSource.query(
        'UPDATE sms_channels SET last_error = NULL, last_error_at = NULL WHERE chatbot_id = $1',
        [fx.chatbotId],
      );
      const response = await send(
        signed(STATUS_PATH, [
          ['MessageSid', randomMessageSid()],
          ['AccountSid', fx.channel.accountSid],
          ['From', fx.channel.phoneNumber],
          ['To', randomNumber()],
          ['MessageStatus', 'undelivered'],
          ['ErrorCode', '30003'],
        ]),
      );
      expect(response.status).toBe(200);
      const status = await send({
        method: 'GET',
        path: `/api/chatbots/${fx.chatbotId}/channels/sms`,
        headers: { authorization: `Bearer ${fx.apiKey}` },
      });
      expect((JSON.parse(status.text) as { lastError: unknown }).lastError).toBeNull();
    });

    it('webhook errors are served as application/json, not under the TwiML content type', async () => {
      // A malformed MessageSid: the handler's 400, which must not go out labelled text/xml.
      const request = signed(WEBHOOK_PATH, [
        ['MessageSid', 'SM-not-a-message-sid'],
        ['AccountSid', fx.channel.accountSid],
        ['From', randomNumber()],
        ['To', fx.channel.phoneNumber],
        ['Body', 'hi'],
      ]);
      const response = await send(request);
      expect(response.status).toBe(400);
      expect({ contentType: response.contentType, problems: contractProblems(response) }).toEqual({
        contentType: expect.stringMatching(/^application\/json/),
        problems: [],
      });
    });
  });
});
