import { classifyTwilioSendError, describeTwilioErrorCode } from './twilio-error-codes';

describe('classifyTwilioSendError', () => {
  it('treats a missing status (network error, timeout) as transient', () => {
    expect(classifyTwilioSendError({})).toBe('transient');
    expect(classifyTwilioSendError({ code: 12345 })).toBe('transient');
  });

  it.each([500, 502, 503, 504, 599])('treats HTTP %i as transient', (status) => {
    expect(classifyTwilioSendError({ status })).toBe('transient');
    expect(classifyTwilioSendError({ status, code: 20500 })).toBe('transient');
  });

  it('treats 429 and code 20429 as transient', () => {
    expect(classifyTwilioSendError({ status: 429 })).toBe('transient');
    expect(classifyTwilioSendError({ status: 429, code: 20429 })).toBe('transient');
    expect(classifyTwilioSendError({ code: 20429 })).toBe('transient');
    expect(classifyTwilioSendError({ status: 400, code: 20429 })).toBe('transient');
  });

  it.each([21211, 21408, 21606, 21608, 21610, 21614, 21617])(
    'treats code %i as permanent, with or without a status',
    (code) => {
      expect(classifyTwilioSendError({ status: 400, code })).toBe('permanent');
      expect(classifyTwilioSendError({ code })).toBe('permanent');
    },
  );

  it.each([400, 401, 403, 404, 409, 422, 499])(
    'treats any other HTTP %i as permanent',
    (status) => {
      expect(classifyTwilioSendError({ status })).toBe('permanent');
      expect(classifyTwilioSendError({ status, code: 20003 })).toBe('permanent');
    },
  );

  it('treats unexpected non-error statuses as transient rather than dropping the message', () => {
    expect(classifyTwilioSendError({ status: 0 })).toBe('transient');
    expect(classifyTwilioSendError({ status: 302 })).toBe('transient');
  });
});

describe('describeTwilioErrorCode', () => {
  it.each([
    [21211, "Invalid 'To' phone number"],
    [21408, "Sending SMS to the 'To' number's region is not enabled on this Twilio account"],
    [21606, "The 'From' number is not a valid SMS-capable number for this Twilio account"],
    [21608, 'Trial account: the recipient number is not verified'],
    [21610, 'The recipient has opted out (replied STOP)'],
    [21614, "The 'To' number is not a mobile number"],
    [21617, 'Message body is too long (over 1,600 characters)'],
    [30003, 'Unreachable destination handset'],
    [30004, 'Message blocked'],
    [30005, 'Unknown destination handset'],
    [30006, 'Landline or unreachable carrier'],
    [30007, 'Message filtered by the carrier'],
    [30008, 'Unknown error'],
    [20003, 'Twilio authentication failed (check the Account SID and Auth Token)'],
  ])('describes %i', (code, description) => {
    expect(describeTwilioErrorCode(code)).toBe(description);
    expect(describeTwilioErrorCode(code, 'ignored fallback')).toBe(description);
  });

  it('uses the fallback for unknown codes', () => {
    expect(describeTwilioErrorCode(99999, 'Something odd happened')).toBe('Something odd happened');
    expect(describeTwilioErrorCode(null, 'Twilio said no')).toBe('Twilio said no');
    expect(describeTwilioErrorCode(undefined, 'Twilio said no')).toBe('Twilio said no');
  });

  it('names the code when there is no fallback', () => {
    expect(describeTwilioErrorCode(99999)).toBe('Twilio error 99999');
    expect(describeTwilioErrorCode(99999, '')).toBe('Twilio error 99999');
  });

  it('gives a generic text when there is neither code nor fallback', () => {
    expect(describeTwilioErrorCode(null)).toBe('Unknown Twilio error');
    expect(describeTwilioErrorCode(undefined)).toBe('Unknown Twilio error');
  });
});
