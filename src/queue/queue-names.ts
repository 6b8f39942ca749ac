/** The durable queues; payload `{ messageId }` in both. */
export const QUEUES = {
  /** An inbound SMS the bot should answer (enqueued by the webhook). */
  smsReply: 'sms-reply',
  /** A stored outbound SMS to send (enqueued by a human agent's reply). */
  smsSend: 'sms-send',
} as const;
