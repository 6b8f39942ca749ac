/** A phone number in E.164: "+", a non-zero country digit, 7 to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
/** A Twilio Account SID. */
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
/** A Twilio Messaging Service SID. */
export const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
/** A Twilio Message SID (SMS or MMS). */
export const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
