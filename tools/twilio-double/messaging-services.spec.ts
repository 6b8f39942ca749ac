import twilio from 'twilio';
import {
  account,
  client,
  CUSTOMER,
  double,
  NUMBER,
  numberSid,
  OTHER_NUMBER,
  useTwilioDouble,
  useWebhookReceiver,
} from './spec-harness';

describe('TwilioDouble Messaging Services (Messaging v1), driven by the real twilio SDK', () => {
  useTwilioDouble();

  it('lists, fetches and updates services, with the links and meta paging the SDK follows', async () => {
    const { api } = client();
    const created = await api.messaging.v1.services.create({ friendlyName: 'Support' });
    expect(created.sid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(created.useInboundWebhookOnNumber).toBe(false);
    expect(created.links.phone_numbers).toBe(
      `https://messaging.twilio.com/v1/Services/${created.sid}/PhoneNumbers`,
    );
    for (let i = 0; i < 2; i++) double.addMessagingService(account.sid);
    double.addMessagingService(double.addAccount().sid);

    // Page size 2: the SDK follows meta.next_page_url (absolute, on messaging.twilio.com).
    const all = await api.messaging.v1.services.list({ pageSize: 2 });
    expect(all).toHaveLength(3);

    const updated = await api.messaging.v1.services(created.sid).update({
      inboundRequestUrl: 'https://bot.example.com/sms',
      inboundMethod: 'POST',
      useInboundWebhookOnNumber: false,
    });
    expect(updated.inboundRequestUrl).toBe('https://bot.example.com/sms');
    const fetched = await api.messaging.v1.services(created.sid).fetch();
    expect(fetched).toMatchObject({ friendlyName: 'Support', inboundMethod: 'POST' });
    await api.messaging.v1.services(created.sid).update({ inboundRequestUrl: '' });
    expect(double.messagingService(created.sid)?.inboundRequestUrl).toBeNull();
  });

  it("answers 404 for another account's service", async () => {
    const other = double.addMessagingService(double.addAccount().sid);
    await expect(client().api.messaging.v1.services(other.sid).fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it('adds, lists and removes pool numbers; a number is in one service at most', async () => {
    const { api } = client();
    const a = double.addMessagingService(account.sid);
    const b = double.addMessagingService(account.sid);
    const added = await api.messaging.v1.services(a.sid).phoneNumbers.create({
      phoneNumberSid: numberSid,
    });
    expect(added).toMatchObject({ sid: numberSid, phoneNumber: NUMBER, serviceSid: a.sid });
    expect(await api.messaging.v1.services(a.sid).phoneNumbers.list()).toHaveLength(1);
    await expect(
      api.messaging.v1.services(b.sid).phoneNumbers.create({ phoneNumberSid: numberSid }),
    ).rejects.toMatchObject({ code: 21710 });

    const foreign = double.addNumber(double.addAccount().sid, { phoneNumber: OTHER_NUMBER });
    await expect(
      api.messaging.v1.services(a.sid).phoneNumbers.create({ phoneNumberSid: foreign.sid }),
    ).rejects.toMatchObject({ code: 21421 });

    await api.messaging.v1.services(a.sid).phoneNumbers(numberSid).remove();
    expect(await api.messaging.v1.services(a.sid).phoneNumbers.list()).toEqual([]);
    expect(double.messagingService(a.sid)?.phoneNumberSids).toEqual([]);
  });

  it('refuses parameters the document does not define', async () => {
    const sid = double.addMessagingService(account.sid).sid;
    const res = await fetch(`${double.url}/v1/Services/${sid}`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${account.sid}:${account.authToken}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ InboundUrl: 'https://bot.example.com/sms' }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 20001 });
  });

  describe('Messages.create with MessagingServiceSid', () => {
    const send = (params: { from?: string; messagingServiceSid: string }) =>
      client().api.messages.create({ to: CUSTOMER, body: 'hi', ...params });

    it('sends from a number of the pool, and from the pool without From', async () => {
      const service = double.addMessagingService(account.sid);
      double.addNumberToMessagingService(service.sid, NUMBER);
      const both = await send({ from: NUMBER, messagingServiceSid: service.sid });
      expect(both).toMatchObject({ from: NUMBER, messagingServiceSid: service.sid });
      expect(double.messages.at(-1)?.params).toMatchObject({
        From: NUMBER,
        MessagingServiceSid: service.sid,
      });
      await expect(send({ messagingServiceSid: service.sid })).resolves.toMatchObject({
        status: 'accepted',
      });
    });

    it("refuses a service that is not the account's, an empty pool, a From outside the pool", async () => {
      const foreign = double.addMessagingService(double.addAccount().sid);
      await expect(send({ from: NUMBER, messagingServiceSid: foreign.sid })).rejects.toMatchObject({
        code: 21701,
      });
      const empty = double.addMessagingService(account.sid);
      await expect(send({ messagingServiceSid: empty.sid })).rejects.toMatchObject({
        code: 21704,
      });
      const other = double.addMessagingService(account.sid);
      double.addNumber(account.sid, { phoneNumber: OTHER_NUMBER });
      double.addNumberToMessagingService(other.sid, OTHER_NUMBER);
      await expect(send({ from: NUMBER, messagingServiceSid: other.sid })).rejects.toMatchObject({
        code: 21606,
      });
      expect(double.messages).toHaveLength(0);
    });
  });

  describe('inbound routing', () => {
    const receiver = useWebhookReceiver();
    const received = () =>
      receiver.received.map((r) => ({
        path: r.url,
        params: Object.fromEntries(new URLSearchParams(r.body)),
        signature: String(r.headers['x-twilio-signature']),
      }));

    it("posts to the service's inbound URL, ignoring the number's, unless the service defers", async () => {
      await client()
        .api.incomingPhoneNumbers(numberSid)
        .update({ smsUrl: `${receiver.url}/number`, smsMethod: 'POST' });
      const service = double.addMessagingService(account.sid, {
        inboundRequestUrl: `${receiver.url}/service`,
      });
      double.addNumberToMessagingService(service.sid, NUMBER);

      await double.sendInboundMessage({ to: NUMBER, from: CUSTOMER, body: 'one' });
      double.updateMessagingService(service.sid, { useInboundWebhookOnNumber: true });
      await double.sendInboundMessage({ to: NUMBER, from: CUSTOMER, body: 'two' });

      expect(received().map((r) => [r.path, r.params.Body])).toEqual([
        ['/service', 'one'],
        ['/number', 'two'],
      ]);
      for (const r of received()) {
        expect(r.params.MessagingServiceSid).toBe(service.sid);
        expect(
          twilio.validateRequest(account.authToken, r.signature, receiver.url + r.path, r.params),
        ).toBe(true);
      }
    });

    it('delivers nothing when the service has no inbound URL (its numbers ignore their own)', async () => {
      await client()
        .api.incomingPhoneNumbers(numberSid)
        .update({ smsUrl: `${receiver.url}/number`, smsMethod: 'POST' });
      const service = double.addMessagingService(account.sid);
      double.addNumberToMessagingService(service.sid, NUMBER);
      await expect(
        double.sendInboundMessage({ to: NUMBER, from: CUSTOMER, body: 'lost' }),
      ).rejects.toThrow(/no inbound URL Twilio would use/);
      expect(received()).toEqual([]);
    });
  });
});
