/**
 * The opaque page cursor of the conversation list: base64url of `<lastMessageAt>|<id>` of the last
 * conversation on the page. The time keeps PostgreSQL's microseconds (a JS Date would cut them to
 * milliseconds and the next page would repeat or skip rows), so it is read from the database as
 * text, never through a Date.
 */
export interface ConversationCursor {
  /** ISO 8601 in UTC with up to 6 fractional digits, e.g. 2025-11-25T14:03:07.123456Z */
  lastMessageAt: string;
  id: string;
}

const SEPARATOR = '|';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SQL that renders a timestamptz column the way the cursor stores it (UTC, microseconds). */
export const cursorTimestampSql = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeCursor(cursor: ConversationCursor): string {
  return Buffer.from(`${cursor.lastMessageAt}${SEPARATOR}${cursor.id}`, 'utf8').toString(
    'base64url',
  );
}

/** The cursor, or null when the text is not one we issued (tampered, truncated, foreign). */
export function decodeCursor(text: string): ConversationCursor | null {
  if (!BASE64URL.test(text) || text.length > 200) return null;
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(SEPARATOR);
  if (parts.length !== 2) return null;
  const [lastMessageAt, id] = parts;
  if (!isRealTimestamp(lastMessageAt) || !UUID.test(id)) return null;
  return { lastMessageAt, id };
}

/** Date.parse accepts 2025-02-30 (rolling it over) where PostgreSQL fails the query: round-trip. */
function isRealTimestamp(text: string): boolean {
  if (!TIMESTAMP.test(text) || text.startsWith('0000')) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}
