import {
  isWebhookUrl,
  STATUS_CALLBACK_PATH,
  STATUS_CALLBACK_ROUTE,
  WEBHOOK_PATH,
  WEBHOOK_ROUTE,
} from './webhook-paths';

describe('webhook paths', () => {
  it('are the URLs Twilio already has for every connected number (changing them strands those numbers)', () => {
    expect(WEBHOOK_PATH).toBe('/api/webhooks/twilio/sms');
    expect(STATUS_CALLBACK_PATH).toBe('/api/webhooks/twilio/sms/status');
  });

  it('are the controller routes under the global /api prefix', () => {
    expect(`/api/${WEBHOOK_ROUTE}`).toBe(WEBHOOK_PATH);
    expect(`${WEBHOOK_PATH}/${STATUS_CALLBACK_ROUTE}`).toBe(STATUS_CALLBACK_PATH);
  });

  it('are both below the prefix the webhook-only rules test (helmet skipped, forms accepted)', () => {
    expect(isWebhookUrl(WEBHOOK_PATH)).toBe(true);
    expect(isWebhookUrl(`${STATUS_CALLBACK_PATH}?messageId=1`)).toBe(true);
    expect(isWebhookUrl('/api/chatbots/1/sms-channel')).toBe(false);
    expect(isWebhookUrl('/api/webhooksx')).toBe(false);
  });
});
