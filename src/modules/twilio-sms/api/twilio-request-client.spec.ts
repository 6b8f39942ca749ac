import { twilioEndpoint } from './twilio-request-client';

const ACCOUNT = 'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef';

describe('twilioEndpoint (the metric label of a Twilio call)', () => {
  it('names each endpoint we call by its pattern, never by the SIDs in its path', () => {
    expect(twilioEndpoint('GET', `${ACCOUNT}.json`)).toBe('accounts.fetch');
    expect(twilioEndpoint('get', `${ACCOUNT}/IncomingPhoneNumbers.json?PhoneNumber=%2B358`)).toBe(
      'incoming_phone_numbers.list',
    );
    const number = `${ACCOUNT}/IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json`;
    expect(twilioEndpoint('GET', number)).toBe('incoming_phone_numbers.fetch');
    expect(twilioEndpoint('POST', number)).toBe('incoming_phone_numbers.update');
    expect(twilioEndpoint('post', `${ACCOUNT}/Messages.json`)).toBe('messages.create');
    expect(twilioEndpoint('GET', `${ACCOUNT}/Messages.json`)).toBe('messages.list');
    const service = 'https://messaging.twilio.com/v1/Services/MG0123456789abcdef0123456789abcdef';
    expect(twilioEndpoint('GET', 'https://messaging.twilio.com/v1/Services?PageSize=50')).toBe(
      'messaging_services.list',
    );
    expect(twilioEndpoint('GET', service)).toBe('messaging_services.fetch');
    expect(twilioEndpoint('POST', service)).toBe('messaging_services.update');
    expect(twilioEndpoint('GET', `${service}/PhoneNumbers`)).toBe('messaging_service_numbers.list');
  });

  it('anything else is "other"', () => {
    expect(twilioEndpoint('DELETE', `${ACCOUNT}/Messages/SM0123.json`)).toBe('other');
    expect(twilioEndpoint('GET', 'https://api.twilio.com/+358401234567')).toBe('other');
  });
});
