import { DomainError } from '../../../common/errors/domain-error';
import { toTwilioApiError, TwilioApiError } from './twilio-api.error';

const restException = (status: number, code: number, message: string) =>
  Object.assign(new Error(message), { status, code, moreInfo: null });

describe('TwilioApiError: a Twilio failure in the DomainError family', () => {
  it('rejected credentials answer 422 TWILIO_CREDENTIALS_REJECTED with the contract’s words', () => {
    const error = toTwilioApiError(restException(401, 20003, 'Authenticate'));
    expect(error).toBeInstanceOf(DomainError);
    expect(error.isAuthenticationFailure).toBe(true);
    expect(error.toBody()).toEqual({
      statusCode: 422,
      code: 'TWILIO_CREDENTIALS_REJECTED',
      message: 'Twilio rejected the credentials',
    });
    expect(error.name).toBe('TwilioApiError');
  });

  it('an unreachable Twilio answers 503 TWILIO_UNREACHABLE; its own words stay in the logs', () => {
    const error = toTwilioApiError(Object.assign(new Error('connect ECONNREFUSED'), {}));
    expect(error.transient).toBe(true);
    expect(error.toBody()).toEqual({
      statusCode: 503,
      code: 'TWILIO_UNREACHABLE',
      message: "Couldn't reach Twilio right now",
    });
    expect(error.message).toBe('connect ECONNREFUSED');
    expect(error.reason).toBe('Could not reach Twilio (connect ECONNREFUSED)');
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
