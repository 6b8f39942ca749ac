import type { TwilioIncomingNumber, TwilioMessagingServicePool } from '../twilio-sms';
import { inboundWebhookOf } from './inbound-route';

const NUMBER: TwilioIncomingNumber = {
  sid: `PN${'1'.repeat(32)}`,
  phoneNumber: '+15005550006',
  smsCapable: true,
  smsUrl: 'https://number.example.com/sms',
  smsMethod: 'POST',
};
const SERVICE_SID = `MG${'a'.repeat(32)}`;
const pool = (useInboundWebhookOnNumber: boolean): TwilioMessagingServicePool => ({
  service: {
    sid: SERVICE_SID,
    friendlyName: 'Support',
    inboundRequestUrl: 'https://service.example.com/sms',
    inboundMethod: 'GET',
    useInboundWebhookOnNumber,
    usA2pRegistered: true,
  },
  phoneNumberSids: [NUMBER.sid],
});

describe('inboundWebhookOf: the URL Twilio posts a number inbound messages to', () => {
  it("is the number's SmsUrl without a service, or in a service that defers to its numbers", () => {
    const own = { on: 'number', url: NUMBER.smsUrl, method: 'POST' };
    expect(inboundWebhookOf(NUMBER, null)).toEqual(own);
    expect(inboundWebhookOf(NUMBER, pool(true))).toEqual(own);
  });

  it("is the service's inbound URL otherwise: the number's own is ignored", () => {
    expect(inboundWebhookOf(NUMBER, pool(false))).toEqual({
      on: 'service',
      url: 'https://service.example.com/sms',
      method: 'GET',
    });
  });
});
