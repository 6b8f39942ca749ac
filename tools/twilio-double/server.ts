/**
 * The double's HTTP front, the same for every resource: records each request, applies an
 * injected fault, routes by the OpenAPI documents, authenticates (Basic auth, and the account in
 * the path must be the caller's), validates every parameter against the document, then hands the
 * request to the resource implementing the operation and stamps the answer with Twilio's clock.
 */
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import {
  errorBody,
  errorResult,
  notFound,
  parameterIssueError,
  randomSid,
  toBag,
  toRecord,
  type ApiError,
  type ApiResult,
  type OperationHandler,
  type Params,
  type Resource,
} from './api';
import type { Accounts, BasicCredentials } from './accounts';
import type { TwilioClock } from './clock';
import type { FaultKind, Faults } from './faults';
import type { OpenApiIndex, OperationId, ParamBag } from './openapi';

export interface RecordedRequest {
  /** Date.now() when the request arrived (the test's clock, not Twilio's). */
  at: number;
  method: string;
  path: string;
  query: Params;
  form: Params;
  operationId: OperationId | null;
  /** Basic-auth username as sent (whether or not it authenticated). */
  authAccountSid: string | null;
  /** HTTP status answered; null while pending or when the socket was dropped. */
  status: number | null;
  fault: FaultKind | null;
}

export class ApiServer {
  /** Every HTTP request received, in order. */
  readonly requests: RecordedRequest[] = [];
  url = '';

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly handlers = new Map<string, { handle: OperationHandler; resource: Resource }>();

  constructor(
    private readonly spec: OpenApiIndex,
    private readonly clock: TwilioClock,
    private readonly faults: Faults,
    private readonly accounts: Accounts,
    resources: Resource[],
  ) {
    for (const resource of resources) {
      for (const [operationId, handle] of Object.entries(resource.operations)) {
        this.handlers.set(operationId, { handle, resource });
      }
    }
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The operations of the documents that no resource implements (the double's own test: none). */
  unimplementedOperations(): OperationId[] {
    return this.spec.operations
      .map((op) => op.operationId)
      .filter((operationId) => !this.handlers.has(operationId));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Closes the server; kept-alive client sockets are destroyed so jest can exit. */
  async close(): Promise<void> {
    this.clearTimers();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Answers held back by delayNext are never sent. */
  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.url);
      const rawBody = await readBody(req);
      const query = toBag(url.searchParams);
      const isForm = (req.headers['content-type'] ?? '').includes(
        'application/x-www-form-urlencoded',
      );
      // Twilio ignores bodies of other types; the required-parameter checks then fire.
      const form = isForm ? toBag(new URLSearchParams(rawBody)) : new Map<string, string[]>();
      const method = (req.method ?? 'GET').toUpperCase();
      const route = this.spec.match(method, url.pathname);
      const credentials = parseBasicAuth(req.headers.authorization);
      const entry: RecordedRequest = {
        at: Date.now(),
        method,
        path: url.pathname,
        query: toRecord(query),
        form: toRecord(form),
        operationId: route.kind === 'operation' ? route.op.operationId : null,
        authAccountSid: credentials?.username ?? null,
        status: null,
        fault: null,
      };
      this.requests.push(entry);

      const fault = this.faults.take(entry);
      entry.fault = fault?.kind ?? null;
      if (fault?.kind === 'drop' && !fault.afterProcessing) {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'error') {
        const { error } = fault;
        const headers: Record<string, string> = {};
        if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
        const apiError: ApiError = {
          status: error.status,
          code: error.code ?? 20000 + error.status,
          message: error.message ?? http.STATUS_CODES[error.status] ?? 'Error',
          headers,
        };
        this.send(res, entry, errorResult(apiError));
        return;
      }

      const result = this.process(route, url.pathname, query, form, credentials);
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.send(res, entry, result);
        }, fault.ms);
        this.timers.add(timer);
        return;
      }
      this.send(res, entry, result);
    } catch (err) {
      // A bug in the double, not a simulated outage: make it loud.
      console.error('TwilioDouble internal error', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(errorBody({ status: 500, code: 20500, message: String(err) })));
      }
    }
  }

  private process(
    route: ReturnType<OpenApiIndex['match']>,
    pathname: string,
    query: ParamBag,
    form: ParamBag,
    credentials: BasicCredentials | undefined,
  ): ApiResult {
    if (route.kind === 'not-found') return errorResult(notFound(pathname));
    if (route.kind === 'method-not-allowed') {
      return errorResult({
        status: 405,
        code: 20004,
        message: 'Method not allowed',
        headers: { Allow: route.allowed.join(', ') },
      });
    }
    const { op, pathParams } = route;
    const account = this.accounts.authenticate(credentials);
    if (!account || (op.accountParam && account.sid !== pathParams[op.accountParam])) {
      return errorResult({ status: 401, code: 20003, message: 'Authenticate' });
    }
    // A malformed SID can never name a resource: Twilio answers 404, not 400.
    for (const p of op.pathParams) {
      if (p.schema.pattern && !new RegExp(p.schema.pattern).test(pathParams[p.name])) {
        return errorResult(notFound(pathname));
      }
    }
    const handler = this.handlers.get(op.operationId);
    const issue = this.spec.validate(op, query, form);
    if (issue) {
      return errorResult(
        handler?.resource.parameterError?.(op, issue) ?? parameterIssueError(op, issue),
      );
    }
    // No handler: only if a document gains operations the double lacks (its test says so).
    if (!handler) return errorResult(notFound(pathname));
    return handler.handle({ op, pathParams, query, form, account, pathname });
  }

  private send(res: ServerResponse, entry: RecordedRequest, result: ApiResult): void {
    entry.status = result.status;
    if (res.destroyed) return; // The client gave up (e.g. its timeout fired first).
    const headers: Record<string, string> = {
      'Twilio-Request-Id': randomSid('RQ'),
      // Node would stamp its own clock; Twilio's answer carries Twilio's.
      Date: new Date(this.clock.now()).toUTCString(),
      ...result.headers,
    };
    if (result.body === undefined) {
      res.writeHead(result.status, headers);
      res.end();
      return;
    }
    res.writeHead(result.status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(result.body));
  }
}

function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
