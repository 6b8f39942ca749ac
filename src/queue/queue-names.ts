/** The durable queues; payload `{ messageId }` in the SMS ones. */
export const QUEUES = {
  /** An inbound SMS the bot should answer (enqueued by the webhook). */
  smsReply: 'sms-reply',
  /** A stored outbound SMS to send (enqueued by a human agent's reply). */
  smsSend: 'sms-send',
  /** Once a minute across all instances (a pg-boss schedule): re-check the oldest-checked channels. */
  channelHealthSweep: 'channel-health-sweep',
} as const;
