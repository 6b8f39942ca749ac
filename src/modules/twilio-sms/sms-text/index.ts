export * from './reply-text';
export * from './sms-keywords';
export * from './sms-segments';
export * from './sms-senders';
export * from './twilio-error-codes';
