/**
 * A customer rotating their Auth Token with Twilio's own Secondary → Promote flow, done for real
 * in the Twilio double through the twilio SDK: create the secondary, give it to us, promote it.
 * Every message the customer's customers send meanwhile is accepted and answered (no 403 in
 * between), and afterwards only the new token is stored. A token Twilio refuses is never stored;
 * a rotation can be cancelled; and a token rotated without telling us holds the replies until the
 * customer gives us the new one, then they go out. No token appears in a response or a log line.
 */
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { RewritingRequestClient } from '../tools/twilio-double/rewriting-request-client';
import {
  ConnectedChannel,
  connectChannel,
  eventually,
  openConversation,
  randomNumber,
  SmsTestContext,
  startSmsTestApp,
  textFromCustomer,
} from './support/sms-fixtures';
import { authed, expectError } from './support/test-app';

describe('Auth Token rotation (POST/DELETE …/channels/sms/auth-token)', () => {
  let ctx: SmsTestContext;
  const responses: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    ctx = await startSmsTestApp();
  });
  afterAll(async () => {
    await ctx.close();
  });

  const db = () => ctx.t.running.app.get(DataSource);
  /** The customer's own Twilio client (the double stands in for api. and accounts.twilio.com). */
  const customerTwilio = (channel: ConnectedChannel, authToken = channel.authToken) =>
    twilio(channel.accountSid, authToken, {
      httpClient: new RewritingRequestClient(ctx.twilio.url),
    });
  const api = (channel: ConnectedChannel) => authed(ctx.t.http, channel.apiKey);
  const path = (channel: ConnectedChannel, tail = '') =>
    `/api/chatbots/${channel.chatbotId}/channels/sms${tail}`;
  const keep = <T extends { status: number; text: string }>(res: T): T => {
    responses.push(`${res.status} ${res.text}`);
    return res;
  };
  const storedTokens = async (channel: ConnectedChannel) => {
    const [row] = await db().query(
      `SELECT auth_token_encrypted AS current, pending_auth_token_encrypted AS pending
       FROM sms_channels WHERE chatbot_id = $1`,
      [channel.chatbotId],
    );
    return row as { current: string; pending: string | null };
  };
  const repliesTo = (customer: string) =>
    ctx.twilio.messages.filter((message) => message.to === customer);

  it('create secondary → give it to us → promote: every message answered, no 403', async () => {
    const channel = await connectChannel(ctx);
    tokens.push(channel.authToken);
    const customer = randomNumber();
    const deliveries: number[] = [];
    const text = async (body: string, expectedReplies: number) => {
      deliveries.push((await textFromCustomer(ctx, channel, customer, body)).status);
      await ctx.twilio.waitForMessages(expectedReplies, 10_000, (m) => m.to === customer);
    };
    await text('Before the rotation', 1);

    const secondary = await customerTwilio(channel).accounts.v1.secondaryAuthToken().create();
    const newToken = secondary.secondaryAuthToken;
    tokens.push(newToken);
    const before = await storedTokens(channel);
    const given = keep(
      await api(channel).post(path(channel, '/auth-token')).send({ authToken: newToken }),
    );
    expect(given.status).toBe(200);
    expect(given.body).toMatchObject({ connected: true, authTokenPending: true });
    const both = await storedTokens(channel);
    expect(both.current).toBe(before.current);
    expect(both.pending).toMatch(/^v1\./);

    // Twilio still signs with the old (primary) token: accepted, answered, nothing promoted.
    await text('While both tokens work', 2);
    expect((await storedTokens(channel)).pending).toBe(both.pending);

    await customerTwilio(channel).accounts.v1.authTokenPromotion().update();
    // Now Twilio signs with the new token only, and the old one fails every REST call.
    await text('Right after the promotion', 3);
    await text('And after that', 4);
    expect(deliveries).toEqual([200, 200, 200, 200]);

    const after = await storedTokens(channel);
    expect(after.pending).toBeNull();
    expect(after.current).not.toBe(before.current);
    const status = keep(await api(channel).get(path(channel)).expect(200));
    expect(status.body).toMatchObject({ authTokenPending: false });
    expect(status.body.health).toMatchObject({ credentials: 'valid' });
    // The replies after the promotion were sent with the new token (the old one is refused).
    expect(repliesTo(customer)).toHaveLength(4);
    expect(ctx.twilio.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('a token Twilio refuses is 422 and nothing is stored; the current one again changes nothing', async () => {
    const channel = await connectChannel(ctx);
    tokens.push(channel.authToken);
    const wrong = 'f'.repeat(32);
    tokens.push(wrong);
    const res = keep(
      await api(channel).post(path(channel, '/auth-token')).send({ authToken: wrong }),
    );
    expectError(res.body, 422, 'TWILIO_CREDENTIALS_REJECTED');
    expect((await storedTokens(channel)).pending).toBeNull();

    // The token already in use: nothing becomes pending.
    const same = keep(
      await api(channel).post(path(channel, '/auth-token')).send({ authToken: channel.authToken }),
    );
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ authTokenPending: false });
    expect((await storedTokens(channel)).pending).toBeNull();

    const malformed = keep(
      await api(channel).post(path(channel, '/auth-token')).send({ authToken: 'short' }),
    );
    expectError(malformed.body, 400, 'VALIDATION_FAILED');
  });

  it('DELETE cancels the pending token; the current one keeps working', async () => {
    const channel = await connectChannel(ctx);
    tokens.push(channel.authToken);
    const { secondaryAuthToken } = await customerTwilio(channel)
      .accounts.v1.secondaryAuthToken()
      .create();
    tokens.push(secondaryAuthToken);
    keep(
      await api(channel)
        .post(path(channel, '/auth-token'))
        .send({ authToken: secondaryAuthToken })
        .expect(200),
    );
    await api(channel).delete(path(channel, '/auth-token')).expect(204);
    expect((await storedTokens(channel)).pending).toBeNull();
    const again = keep(await api(channel).delete(path(channel, '/auth-token')));
    expectError(again.body, 404, 'NOT_FOUND');
    const customer = randomNumber();
    expect((await textFromCustomer(ctx, channel, customer, 'Still there?')).status).toBe(200);
    await ctx.twilio.waitForMessages(1, 10_000, (m) => m.to === customer);

    const stranger = await ctx.t.createOrganization('starter');
    const foreign = keep(
      await authed(ctx.t.http, stranger.apiKey)
        .post(path(channel, '/auth-token'))
        .send({ authToken: secondaryAuthToken }),
    );
    expectError(foreign.body, 404, 'NOT_FOUND');
  });

  it('rotated in Twilio without telling us: replies are held, then sent with the new token', async () => {
    const channel = await connectChannel(ctx);
    tokens.push(channel.authToken);
    const customer = randomNumber();
    const conversationId = await openConversation(ctx, channel, customer);

    const rotated = 'abcdefabcdefabcdefabcdefabcdef12';
    tokens.push(rotated);
    ctx.twilio.updateAccount(channel.accountSid, { authToken: rotated });
    keep(
      await api(channel)
        .post(`/api/conversations/${conversationId}/messages`)
        .send({ body: 'A human here: your order ships today' })
        .expect(201),
    );
    // Held, not failed; the channel's health says why at once.
    const held = await eventually(async () => {
      const [row] = await db().query(
        `SELECT delivery_status, error_code FROM messages
         WHERE conversation_id = $1 AND author = 'agent'`,
        [conversationId],
      );
      return row?.error_code === 20003 ? row : null;
    });
    expect(held.delivery_status).toBe('pending');
    const [{ health_credentials }] = await db().query(
      `SELECT health_credentials FROM sms_channels WHERE chatbot_id = $1`,
      [channel.chatbotId],
    );
    expect(health_credentials).toBe('rejected');
    expect(repliesTo(customer)).toHaveLength(1);

    // The customer gives us the token: the old one is refused, so it takes over at once.
    const given = keep(
      await api(channel)
        .post(path(channel, '/auth-token'))
        .send({ authToken: rotated })
        .expect(200),
    );
    expect(given.body).toMatchObject({ authTokenPending: false });
    expect(given.body.health).toMatchObject({ credentials: 'valid' });
    await ctx.twilio.waitForMessages(2, 10_000, (m) => m.to === customer);
    expect(repliesTo(customer)[1].body).toBe('A human here: your order ships today');
    expect((await textFromCustomer(ctx, channel, customer, 'Thanks')).status).toBe(200);
  });

  it('no token appears in any response or log line of these paths', () => {
    const logs = ctx.t.logs.join('\n');
    const answers = responses.join('\n');
    for (const token of tokens) {
      expect(answers).not.toContain(token);
      expect(logs).not.toContain(token);
    }
  });
});
