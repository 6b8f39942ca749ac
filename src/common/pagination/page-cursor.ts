/**
 * The opaque cursor of every list: base64url of `<at>|<id>` of the last item on the page, `at`
 * being the timestamp the list is ordered by (a conversation's lastMessageAt, a chatbot's
 * createdAt…) and the id breaking ties. The time keeps PostgreSQL's microseconds (a JS Date would cut them to
 * milliseconds and the next page would repeat or skip rows), so it is read from the database as
 * text, never through a Date.
 */
export interface PageCursor {
  /** ISO 8601 in UTC with up to 6 fractional digits, e.g. 2025-11-25T14:03:07.123456Z */
  at: string;
  id: string;
}

const SEPARATOR = '|';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SQL that renders a timestamptz column the way the cursor stores it (UTC, microseconds). */
export const cursorTimestampSql = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(`${cursor.at}${SEPARATOR}${cursor.id}`, 'utf8').toString('base64url');
}

/** The cursor, or null when the text is not one we issued (tampered, truncated, foreign). */
export function decodeCursor(text: string): PageCursor | null {
  if (!BASE64URL.test(text) || text.length > 200) return null;
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(SEPARATOR);
  if (parts.length !== 2) return null;
  const [at, id] = parts;
  if (!isRealTimestamp(at) || !UUID.test(id)) return null;
  return { at, id };
}

/** Date.parse accepts 2025-02-30 (rolling it over) where PostgreSQL fails the query: round-trip. */
function isRealTimestamp(text: string): boolean {
  if (!TIMESTAMP.test(text) || text.startsWith('0000')) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}
