import { AgentError } from '../../agent';
import { DecryptionError } from '../../crypto';
import { toTwilioApiError } from '../api/twilio-api.error';
import { reportedWhereHandled } from './sms-workers';

describe('reportedWhereHandled: which job failures the worker leaves to their handlers', () => {
  it("recognises Twilio's and the model's failures by type", () => {
    expect(reportedWhereHandled(toTwilioApiError(new Error('socket hang up')))).toBe(true);
    expect(
      reportedWhereHandled(new AgentError('timed out', { transient: true, provider: 'openai' })),
    ).toBe(true);
  });

  it('reports everything else, an error merely named like one included', () => {
    const impostor = Object.assign(new Error('boom'), { name: 'TwilioApiError' });
    expect(reportedWhereHandled(impostor)).toBe(false);
    expect(reportedWhereHandled(new DecryptionError('no key'))).toBe(false);
    expect(reportedWhereHandled(new TypeError('bug'))).toBe(false);
  });
});
