/**
 * Serves one PGlite instance to many `pg` connections over loopback.
 *
 * PGlite is a single session, so connections must take turns. pglite-socket's server interleaves
 * individual protocol messages of different connections, which breaks the extended query
 * protocol (another connection's Parse replaces our unnamed statement between our Parse and
 * Bind: "unnamed prepared statement does not exist") under concurrent load. Here a connection
 * holds the session from its first message until a Sync or simple Query has been processed
 * outside a transaction, so each statement and each transaction runs whole.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** Who holds the PGlite session; the others queue in arrival order. */
class SessionLock {
  private owner: number | null = null;
  private readonly waiters: { id: number; resolve: () => void }[] = [];

  async acquire(id: number): Promise<void> {
    if (this.owner === null || this.owner === id) {
      this.owner = id;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ id, resolve }));
  }

  release(id: number): void {
    if (this.owner !== id) return;
    const next = this.waiters.shift();
    this.owner = next ? next.id : null;
    next?.resolve();
  }

  drop(id: number): void {
    const index = this.waiters.findIndex((waiter) => waiter.id === id);
    if (index >= 0) this.waiters.splice(index, 1);
    this.release(id);
  }
}

export class PgliteServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly lock = new SessionLock();
  private nextId = 1;

  constructor(private readonly db: PGlite) {}

  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private accept(socket: Socket): void {
    const id = this.nextId++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let started = false;
    let pending: Uint8Array[] = [];
    let chain = Promise.resolve();

    const run = (messages: Uint8Array[], endsUnit: boolean) => {
      chain = chain
        .then(() => this.execute(id, socket, messages, endsUnit))
        .catch(() => {
          socket.destroy();
        });
    };

    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) {
            socket.end();
            return;
          }
          started = true;
          run([new Uint8Array(message)], true);
          continue;
        }
        if (buffer.length < 5) return;
        const length = buffer.readInt32BE(1) + 1;
        if (buffer.length < length) return;
        const type = buffer[0];
        const message = new Uint8Array(buffer.subarray(0, length));
        buffer = buffer.subarray(length);
        if (type === TERMINATE) {
          socket.end();
          return;
        }
        pending.push(message);
        if (type === SYNC || type === QUERY) {
          run(pending, true);
          pending = [];
        }
      }
    });

    const closed = () => {
      this.sockets.delete(socket);
      chain = chain.then(async () => {
        // A connection that vanished inside a transaction must not leave it open for others.
        if (this.lockOwnedBy(id) && this.db.isInTransaction()) {
          await this.db.exec('ROLLBACK').catch(() => undefined);
        }
        this.lock.drop(id);
      });
    };
    socket.on('close', closed);
    socket.on('error', () => socket.destroy());
  }

  private owner: number | null = null;

  private lockOwnedBy(id: number): boolean {
    return this.owner === id;
  }

  private async execute(
    id: number,
    socket: Socket,
    messages: Uint8Array[],
    endsUnit: boolean,
  ): Promise<void> {
    await this.lock.acquire(id);
    this.owner = id;
    try {
      await this.db.runExclusive(async () => {
        for (const message of messages) {
          await this.db.execProtocolRawStream(message, {
            onRawData: (data) => {
              if (socket.writable) socket.write(data);
            },
          });
        }
      });
    } finally {
      if (endsUnit && !this.db.isInTransaction()) {
        this.owner = null;
        this.lock.release(id);
      }
    }
  }
}
