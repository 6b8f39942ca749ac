/**
 * A PostgreSQL server that refuses every login, for start-up tests on the embedded run (PGlite
 * accepts any user and database). It speaks the real protocol: it asks for the password in clear
 * text, so the client does send it, then answers the ErrorResponse PostgreSQL would (28P01 wrong
 * password, 28000 unknown role, 3D000 unknown database). `passwords` records what it was sent.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

export interface RefusingPostgres {
  url(user: string, password: string, database: string): string;
  passwords: string[];
  close(): Promise<void>;
}

const AUTH_CLEARTEXT = 3;

export async function startRefusingPostgres(
  refusal: (login: { user: string; database: string }) => { code: string; message: string },
): Promise<RefusingPostgres> {
  const passwords: string[] = [];
  const server: Server = createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let login: { user: string; database: string } | null = null;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!login) {
        // StartupMessage: int32 length, int32 protocol, then key\0value\0 pairs and a \0.
        if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
        const fields = buffer
          .subarray(8, buffer.readInt32BE(0) - 1)
          .toString('utf8')
          .split('\0');
        const params = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) params.set(fields[i], fields[i + 1]);
        buffer = buffer.subarray(buffer.readInt32BE(0));
        login = { user: params.get('user') ?? '', database: params.get('database') ?? '' };
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(AUTH_CLEARTEXT, 5);
        socket.write(ask);
        return;
      }
      // PasswordMessage: 'p', int32 length, the password and a \0.
      if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return;
      passwords.push(buffer.subarray(5, buffer.readInt32BE(1)).toString('utf8').replace(/\0$/, ''));
      const { code, message } = refusal(login);
      const body = Buffer.from(
        ['SFATAL', 'VFATAL', `C${code}`, `M${message}`].map((f) => `${f}\0`).join('') + '\0',
      );
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([head, body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (user, password, database) =>
      `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    passwords,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
