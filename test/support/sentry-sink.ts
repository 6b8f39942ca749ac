import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface SentrySink {
  dsn: string;
  envelopes: string[];
  server: Server;
}

/** A local Sentry ingest endpoint: the real SDK posts its envelopes here. */
export async function startSentrySink(): Promise<SentrySink> {
  const envelopes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      // The SDK gzips an envelope over 32 kB (many breadcrumbs make an event that big).
      const body = Buffer.concat(chunks);
      const gzipped = req.headers['content-encoding'] === 'gzip';
      envelopes.push((gzipped ? gunzipSync(body) : body).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { dsn: `http://publickey@127.0.0.1:${port}/1`, envelopes, server };
}
