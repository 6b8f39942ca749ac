import { problemOf } from './channel-health.service';
import { inboundRouteOf } from './inbound-route';

const OURS = 'https://sms.example.com/api/webhooks/twilio/sms';

describe('inboundRouteOf', () => {
  it("judges the number's SmsUrl against our webhook URL", () => {
    expect(inboundRouteOf(OURS, OURS)).toEqual({ inbound: 'ours', inboundUrl: OURS });
    expect(inboundRouteOf('https://other.example.com/sms', OURS)).toEqual({
      inbound: 'elsewhere',
      inboundUrl: 'https://other.example.com/sms',
    });
    expect(inboundRouteOf(null, OURS)).toEqual({ inbound: 'unset', inboundUrl: null });
  });
});

describe('problemOf', () => {
  const good = {
    credentials: 'valid',
    number: 'present',
    inbound: 'ours',
    inboundUrl: OURS,
  } as const;

  it('is null when nothing is known to be wrong, unknown included', () => {
    expect(problemOf(good)).toBeNull();
    expect(
      problemOf({
        credentials: 'unknown',
        number: 'unknown',
        inbound: 'unknown',
        inboundUrl: null,
      }),
    ).toBeNull();
  });

  it('names each problem, never the URL', () => {
    const problem = problemOf({
      credentials: 'rejected',
      number: 'present',
      inbound: 'elsewhere',
      inboundUrl: 'https://user:secret@other.example.com/sms',
    });
    expect(problem).toBe(
      "Twilio rejects the stored Auth Token; the number's incoming messages go elsewhere",
    );
    expect(problemOf({ ...good, number: 'gone' })).toBe(
      'the number is no longer on the Twilio account',
    );
    expect(problemOf({ ...good, inbound: 'unset', inboundUrl: null })).toBe(
      'the number has no incoming-message URL',
    );
  });
});
