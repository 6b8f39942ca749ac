import {
  account,
  client,
  double,
  NUMBER,
  numberSid,
  OTHER_NUMBER,
  raw,
  useTwilioDouble,
} from './spec-harness';

describe('TwilioDouble incoming phone numbers, driven by the real twilio SDK', () => {
  useTwilioDouble();

  it('filters the list by PhoneNumber', async () => {
    double.addNumber(account.sid, { phoneNumber: OTHER_NUMBER, sms: false });
    const { api } = client();

    const found = await api.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      sid: numberSid,
      accountSid: account.sid,
      phoneNumber: NUMBER,
      capabilities: { sms: true, mms: true, voice: true, fax: false },
      smsUrl: '',
      smsMethod: 'POST',
    });
    expect(numberSid).toMatch(/^PN[0-9a-f]{32}$/);

    const other = await api.incomingPhoneNumbers.list({ phoneNumber: OTHER_NUMBER });
    expect(other.map((n) => n.capabilities.sms)).toEqual([false]);
    expect(await api.incomingPhoneNumbers.list({ phoneNumber: '+358400000000' })).toEqual([]);
    expect(await api.incomingPhoneNumbers.list()).toHaveLength(2);
  });

  it("does not show another account's numbers", async () => {
    const other = double.addAccount();
    double.addNumber(other.sid, { phoneNumber: OTHER_NUMBER });
    const list = await client().api.incomingPhoneNumbers.list({ phoneNumber: OTHER_NUMBER });
    expect(list).toEqual([]);
  });

  it('matches partial numbers and * wildcards, as the document specifies', async () => {
    double.addNumber(account.sid, { phoneNumber: OTHER_NUMBER });
    const { api } = client();
    expect(await api.incomingPhoneNumbers.list({ phoneNumber: '4012345' })).toHaveLength(1);
    expect(await api.incomingPhoneNumbers.list({ phoneNumber: '+35840*' })).toHaveLength(2);
  });

  it('pages with next_page_uri, which the SDK follows', async () => {
    double.addNumber(account.sid, { phoneNumber: '+358401000001' });
    double.addNumber(account.sid, { phoneNumber: '+358401000002' });
    const all = await client().api.incomingPhoneNumbers.list({ pageSize: 2 });
    expect(all).toHaveLength(3);
    const listCalls = double.requests.filter((r) => r.operationId === 'ListIncomingPhoneNumber');
    expect(listCalls.map((r) => r.query.Page)).toEqual([undefined, '1']);

    const page = await raw('GET', '/IncomingPhoneNumbers.json', { PageSize: '2' });
    expect(page.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1 });
    expect(page.body.next_page_uri).toMatch(/PageSize=2&Page=1&PageToken=/);
    expect(page.body.previous_page_uri).toBeNull();
  });

  it('persists SmsUrl and SmsMethod updates', async () => {
    const { api } = client();
    const updated = await api.incomingPhoneNumbers(numberSid).update({
      smsUrl: 'https://app.example.com/twilio/sms',
      smsMethod: 'POST',
    });
    expect(updated.smsUrl).toBe('https://app.example.com/twilio/sms');
    expect(double.numbers(account.sid)[0]).toMatchObject({
      smsUrl: 'https://app.example.com/twilio/sms',
      smsMethod: 'POST',
    });
    const [listed] = await api.incomingPhoneNumbers.list({ phoneNumber: NUMBER });
    expect(listed.smsUrl).toBe('https://app.example.com/twilio/sms');
    expect(double.requests.at(-2)?.form).toEqual({
      SmsUrl: 'https://app.example.com/twilio/sms',
      SmsMethod: 'POST',
    });
  });

  it('refuses values the schema forbids', async () => {
    const badMethod = await raw('POST', `/IncomingPhoneNumbers/${numberSid}.json`, {
      SmsMethod: 'PUT',
    });
    expect(badMethod.status).toBe(400);
    expect(badMethod.body.message).toMatch(/SmsMethod/);
    const badUrl = await raw('POST', `/IncomingPhoneNumbers/${numberSid}.json`, {
      SmsUrl: 'not a url',
    });
    expect(badUrl.body).toMatchObject({ status: 400, code: 21502 });
    expect(double.numbers(account.sid)[0].smsUrl).toBe('');
  });

  it('answers 404 / 20404 for an unknown number', async () => {
    const error = await client()
      .api.incomingPhoneNumbers(`PN${'0'.repeat(32)}`)
      .update({ smsUrl: 'https://x.example.com' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 20404 });
  });
});
