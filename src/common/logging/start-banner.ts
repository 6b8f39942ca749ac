/**
 * The first line a start prints (after any configuration warning): where the API listens, which
 * database it uses, where its docs are. A sentence at a terminal, one JSON line otherwise (tools
 * such as `npm run bench` wait for `"msg":"listening"`).
 */
export interface StartInfo {
  url: string;
  database: string;
  /** null with API_DOCS=off. */
  docs: string | null;
}

export function startBanner(info: StartInfo, pretty: boolean): string {
  if (!pretty) {
    return JSON.stringify({ msg: 'listening', ...info, docs: info.docs ?? undefined });
  }
  const docs = info.docs ? `, API docs at ${info.docs}` : '';
  return `SMS channel API listening on ${info.url} (database: ${info.database})${docs}`;
}
