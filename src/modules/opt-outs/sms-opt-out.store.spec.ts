import { channelOptOutSenderSql, optOutSender } from './sms-opt-out.store';

const NUMBER = '+15005550006';
const SERVICE_SID = `MG${'a'.repeat(32)}`;

describe('optOutSender: whose opt-out applies to a channel', () => {
  it('is the Messaging Service for a number in one, else the number', () => {
    expect(optOutSender({ phoneNumber: NUMBER, messagingServiceSid: null })).toBe(NUMBER);
    expect(optOutSender({ phoneNumber: NUMBER, messagingServiceSid: SERVICE_SID })).toBe(
      SERVICE_SID,
    );
    expect(channelOptOutSenderSql('s')).toBe('COALESCE(s.messaging_service_sid, s.phone_number)');
  });
});
