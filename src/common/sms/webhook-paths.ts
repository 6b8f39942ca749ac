/** The global route prefix (bootstrap's setGlobalPrefix). */
const API_PREFIX = '/api';
/** The webhook controller's route: Twilio posts inbound messages here. */
export const WEBHOOK_ROUTE = 'webhooks/twilio/sms';
/** The status callback's route under WEBHOOK_ROUTE. */
export const STATUS_CALLBACK_ROUTE = 'status';
/** The paths Twilio is given (inbound URL and StatusCallback), below PUBLIC_BASE_URL. */
export const WEBHOOK_PATH = `${API_PREFIX}/${WEBHOOK_ROUTE}`;
export const STATUS_CALLBACK_PATH = `${WEBHOOK_PATH}/${STATUS_CALLBACK_ROUTE}`;
/** Every route Twilio calls is below this path; the rules that differ for webhooks test it. */
export const WEBHOOKS_PREFIX = `${API_PREFIX}/webhooks/`;

/** A request to one of Twilio's webhooks, by its URL as the first middleware sees it. */
export const isWebhookUrl = (url: string): boolean => url.startsWith(WEBHOOKS_PREFIX);
