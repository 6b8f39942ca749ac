import { DomainError } from '../../../common/errors/domain-error';
import { toTwilioApiError, TwilioApiError } from './twilio-api.error';

const restException = (status: number, code: number, message: string) =>
  Object.assign(new Error(message), { status, code, moreInfo: null });

describe('TwilioApiError: a Twilio failure in the DomainError family', () => {
  it.each([
    [
      'rejected credentials',
      restException(401, 20003, 'Authenticate'),
      {
        statusCode: 422,
        code: 'TWILIO_CREDENTIALS_REJECTED',
        message: 'Twilio rejected the credentials',
      },
    ],
    [
      'an unreachable Twilio',
      new Error('connect ECONNREFUSED'),
      { statusCode: 503, code: 'TWILIO_UNREACHABLE', message: "Couldn't reach Twilio right now" },
    ],
  ])('%s answers with the contract’s words; Twilio’s own stay in the logs', (_, thrown, body) => {
    const error = toTwilioApiError(thrown);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.name).toBe('TwilioApiError');
    expect(error.toBody()).toEqual(body);
    expect(error.message).toBe(thrown.message);
    expect(error.isAuthenticationFailure).toBe(body.code === 'TWILIO_CREDENTIALS_REJECTED');
  });

  it('a refused request answers 422 TWILIO_REQUEST_REJECTED naming Twilio’s reason', () => {
    const error = toTwilioApiError(restException(400, 21606, 'The From phone number is invalid'));
    expect(error).toBeInstanceOf(TwilioApiError);
    expect(error.twilioCode).toBe(21606);
    expect(error.toBody()).toEqual({
      statusCode: 422,
      code: 'TWILIO_REQUEST_REJECTED',
      message: `Twilio refused the request: ${error.reason}`,
    });
    expect(error.reason).toBe(
      "The 'From' number is not a valid SMS-capable number for this Twilio account",
    );
  });
});
