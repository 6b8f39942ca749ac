import twilio from 'twilio';
import {
  account,
  client,
  CUSTOMER,
  double,
  NUMBER,
  numberSid,
  useTwilioDouble,
  useWebhookReceiver,
} from './spec-harness';

describe('TwilioDouble webhooks', () => {
  useTwilioDouble();

  const receiver = useWebhookReceiver();
  const received = receiver.received;

  it('sends a signed inbound SMS to the number sms_url', async () => {
    const publicUrl = 'https://bot.example.com/twilio/sms';
    await client()
      .api.incomingPhoneNumbers(numberSid)
      .update({ smsUrl: publicUrl, smsMethod: 'POST' });
    const delivery = await double.sendInboundMessage({
      to: NUMBER,
      from: CUSTOMER,
      body: 'STOP',
      extra: { OptOutType: 'STOP' },
      deliverTo: `${receiver.url}/twilio/sms`,
    });
    expect(delivery.status).toBe(200);
    const [request] = received;
    const params = Object.fromEntries(new URLSearchParams(request.body));
    expect(params).toMatchObject({
      From: CUSTOMER,
      To: NUMBER,
      Body: 'STOP',
      OptOutType: 'STOP',
    });
    expect(params.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    const signature = request.headers['x-twilio-signature'] as string;
    expect(twilio.validateRequest(account.authToken, signature, publicUrl, params)).toBe(true);
    expect(twilio.validateRequest('f'.repeat(32), signature, publicUrl, params)).toBe(false);
  });

  it('sends a signed status callback and updates the message', async () => {
    const created = await client().api.messages.create({
      to: CUSTOMER,
      from: NUMBER,
      body: 'hi',
      statusCallback: `${receiver.url}/twilio/status`,
    });
    await double.sendStatusCallback(created.sid, 'undelivered', { errorCode: 30003 });
    const params = Object.fromEntries(new URLSearchParams(received[0].body));
    expect(params).toMatchObject({
      MessageSid: created.sid,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    expect(
      twilio.validateRequest(
        account.authToken,
        received[0].headers['x-twilio-signature'] as string,
        `${receiver.url}/twilio/status`,
        params,
      ),
    ).toBe(true);
    const fetched = await client().api.messages(created.sid).fetch();
    expect(fetched).toMatchObject({ status: 'undelivered', errorCode: 30003 });
  });

  it('signs the StatusCallback with its query string, and delivers it there at deliverTo', async () => {
    const statusCallback = 'https://bot.example.com/twilio/status?messageId=42&x=a%20b';
    const created = await client().api.messages.create({
      to: CUSTOMER,
      from: NUMBER,
      body: 'hi',
      statusCallback,
    });
    await double.sendStatusCallback(created.sid, 'delivered', {
      deliverTo: `${receiver.url}/twilio/status`,
    });
    expect(received[0].url).toBe('/twilio/status?messageId=42&x=a%20b');
    const params = Object.fromEntries(new URLSearchParams(received[0].body));
    const signature = received[0].headers['x-twilio-signature'] as string;
    expect(twilio.validateRequest(account.authToken, signature, statusCallback, params)).toBe(true);
    expect(
      twilio.validateRequest(
        account.authToken,
        signature,
        'https://bot.example.com/twilio/status',
        params,
      ),
    ).toBe(false);
  });
});
