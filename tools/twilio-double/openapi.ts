import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads Twilio's OpenAPI subsets once and turns them into the routing table and the parameter
 * whitelist of the Twilio double. Deriving both from the documents (instead of hand-written
 * lists) keeps the double honest: whatever the app sends that Twilio's published contract does
 * not define is refused.
 */

/**
 * The documents the double serves: copies of ../shared/twilio/<same name> (a test keeps them
 * identical). A new Twilio API (Messaging v1, Accounts v1) adds its subset here and a resource
 * file implementing its operations.
 */
export const DOCUMENTS_DIR = path.resolve(__dirname, 'documents');
export const DOCUMENTS = [
  'api_v2010_sms_subset.openapi.json',
  'messaging_v1_services_subset.openapi.json',
  'accounts_v1_auth_tokens_subset.openapi.json',
].map((name) => path.join(DOCUMENTS_DIR, name));

export interface ParamSchema {
  type?: string;
  format?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: ParamSchema;
  'x-twilio'?: { ignoreFormat?: boolean };
}

export interface ParamSpec {
  name: string;
  schema: ParamSchema;
  required: boolean;
}

/** Every operation of DOCUMENTS; a new document adds its own. */
export type OperationId =
  | 'FetchAccount'
  | 'UpdateAccount'
  | 'ListIncomingPhoneNumber'
  | 'CreateIncomingPhoneNumber'
  | 'FetchIncomingPhoneNumber'
  | 'UpdateIncomingPhoneNumber'
  | 'DeleteIncomingPhoneNumber'
  | 'CreateMessage'
  | 'ListMessage'
  | 'FetchMessage'
  | 'UpdateMessage'
  | 'DeleteMessage'
  | 'CreateService'
  | 'ListService'
  | 'FetchService'
  | 'UpdateService'
  | 'DeleteService'
  | 'CreatePhoneNumber'
  | 'ListPhoneNumber'
  | 'FetchPhoneNumber'
  | 'DeletePhoneNumber'
  | 'CreateSecondaryAuthToken'
  | 'DeleteSecondaryAuthToken'
  | 'UpdateAuthTokenPromotion';

export interface OperationSpec {
  operationId: OperationId;
  method: string;
  pathTemplate: string;
  pathParams: ParamSpec[];
  /** The path parameter naming the account (`/2010-04-01/Accounts/{…}`), if the path has one. */
  accountParam: string | undefined;
  query: Map<string, ParamSpec>;
  form: Map<string, ParamSpec>;
}

export type RouteMatch =
  | { kind: 'operation'; op: OperationSpec; pathParams: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

/** Multi-valued parameters as they arrive on the wire (`MediaUrl` repeats). */
export type ParamBag = Map<string, string[]>;

export type ParamIssue =
  | { kind: 'unknown'; param: string; location: 'query' | 'form' }
  | { kind: 'repeated'; param: string }
  | { kind: 'missing'; param: string }
  | { kind: 'invalid'; param: string; reason: string; schema: ParamSchema };

// Only the slice of OpenAPI 3 this document uses.
interface RawSchema extends ParamSchema {
  $ref?: string;
  properties?: Record<string, RawSchema>;
  required?: string[];
}
interface RawParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: RawSchema;
}
interface RawOperation {
  operationId: string;
  parameters?: RawParameter[];
  requestBody?: { content: Record<string, { schema: RawSchema }> };
}
interface RawPathItem {
  'x-twilio'?: {
    dependentProperties?: Record<string, { resource_url: string }>;
  };
  [method: string]: unknown;
}
interface RawDocument {
  paths: Record<string, RawPathItem>;
  components: { schemas: Record<string, RawSchema> };
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const FORM = 'application/x-www-form-urlencoded';

export class OpenApiIndex {
  readonly operations: OperationSpec[] = [];
  private readonly routes: { regex: RegExp; template: string }[] = [];
  private readonly schemas: Record<string, RawSchema> = {};
  private readonly pathItems: Record<string, RawPathItem> = {};

  private constructor(documents: { file: string; doc: RawDocument }[]) {
    for (const { file, doc } of documents) {
      for (const [template, item] of Object.entries(doc.paths)) {
        if (this.pathItems[template]) throw new Error(`${template} is defined twice (${file})`);
        this.pathItems[template] = item;
        this.routes.push({ regex: templateToRegex(template), template });
        for (const method of HTTP_METHODS) {
          const raw = item[method] as RawOperation | undefined;
          if (raw) this.operations.push(toOperation(doc, file, template, method, raw));
        }
      }
      Object.assign(this.schemas, doc.components.schemas);
    }
  }

  static load(files: string[] = DOCUMENTS): OpenApiIndex {
    return new OpenApiIndex(
      files.map((file) => ({ file, doc: JSON.parse(readFileSync(file, 'utf8')) as RawDocument })),
    );
  }

  match(method: string, pathname: string): RouteMatch {
    for (const route of this.routes) {
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const candidates = this.operations.filter((o) => o.pathTemplate === route.template);
      const op = candidates.find((o) => o.method === method.toUpperCase());
      if (!op) {
        return { kind: 'method-not-allowed', allowed: candidates.map((o) => o.method) };
      }
      const pathParams: Record<string, string> = {};
      op.pathParams.forEach((p, i) => {
        pathParams[p.name] = safeDecode(m[i + 1]);
      });
      return { kind: 'operation', op, pathParams };
    }
    return { kind: 'not-found' };
  }

  /** Property names of a response schema, e.g. `api.v2010.account.message`. */
  schemaProperties(name: string): string[] {
    return Object.keys(this.schemas[name]?.properties ?? {});
  }

  /** `subresource_uris` template of the Account resource, as the document lists it. */
  accountSubresources(): Record<string, string> {
    const deps =
      this.pathItems['/2010-04-01/Accounts/{Sid}.json']?.['x-twilio']?.dependentProperties;
    const out: Record<string, string> = {};
    for (const [key, dep] of Object.entries(deps ?? {})) {
      out[key] = dep.resource_url.replace('{account_sid}', '{AccountSid}');
    }
    return out;
  }

  /** The `x-twilio.dependentProperties` of a path: link name → resource URL template. */
  dependentResourceUrls(template: string): Record<string, string> {
    const deps = this.pathItems[template]?.['x-twilio']?.dependentProperties;
    return Object.fromEntries(
      Object.entries(deps ?? {}).map(([key, dep]) => [key, dep.resource_url]),
    );
  }

  /**
   * Checks names against the operation's declared parameters (query for reads,
   * form body for writes), then each value against its schema. Path
   * parameters are validated by the caller because Twilio answers 404, not 400.
   */
  validate(op: OperationSpec, query: ParamBag, form: ParamBag): ParamIssue | undefined {
    const sources: [ParamBag, Map<string, ParamSpec>, 'query' | 'form'][] = [
      [query, op.query, 'query'],
      [form, op.form, 'form'],
    ];
    for (const [bag, specs, location] of sources) {
      for (const name of bag.keys()) {
        if (!specs.has(name)) return { kind: 'unknown', param: name, location };
      }
    }
    for (const [bag, specs] of sources) {
      for (const spec of specs.values()) {
        const values = bag.get(spec.name);
        if (!values) {
          if (spec.required) return { kind: 'missing', param: spec.name };
          continue;
        }
        const isArray = spec.schema.type === 'array';
        if (!isArray && values.length > 1) return { kind: 'repeated', param: spec.name };
        const itemSchema = isArray ? (spec.schema.items ?? {}) : spec.schema;
        for (const value of values) {
          const reason = checkValue(value, itemSchema);
          if (reason) return { kind: 'invalid', param: spec.name, reason, schema: itemSchema };
        }
      }
    }
    return undefined;
  }
}

function toOperation(
  doc: RawDocument,
  file: string,
  template: string,
  method: string,
  raw: RawOperation,
): OperationSpec {
  const resolve = (schema: RawSchema) => resolveSchema(doc, file, schema);
  const params = (raw.parameters ?? []).map((p) => ({
    in: p.in,
    spec: { name: p.name, schema: resolve(p.schema), required: p.required === true },
  }));
  const form = new Map<string, ParamSpec>();
  const body = raw.requestBody?.content[FORM]?.schema;
  if (body) {
    const required = new Set(body.required ?? []);
    for (const [name, schema] of Object.entries(body.properties ?? {})) {
      form.set(name, { name, schema: resolve(schema), required: required.has(name) });
    }
  }
  // Route regex groups follow template order; the document lists path
  // params in that order too, but sort defensively by position.
  const pathParams = params
    .filter((p) => p.in === 'path')
    .map((p) => p.spec)
    .sort((a, b) => template.indexOf(`{${a.name}}`) - template.indexOf(`{${b.name}}`));
  return {
    operationId: raw.operationId as OperationId,
    method: method.toUpperCase(),
    pathTemplate: template,
    pathParams,
    accountParam: /^\/2010-04-01\/Accounts\/\{(\w+)\}/.exec(template)?.[1],
    query: new Map(params.filter((p) => p.in === 'query').map((p) => [p.spec.name, p.spec])),
    form,
  };
}

/** Follows `$ref`s within the schema's own document. */
function resolveSchema(doc: RawDocument, file: string, schema: RawSchema): ParamSchema {
  let current = schema;
  while (current.$ref) {
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`Unresolvable $ref ${current.$ref} in ${file}`);
    current = target;
  }
  return current.items ? { ...current, items: resolveSchema(doc, file, current.items) } : current;
}

/** Returns why `value` violates `schema`, or undefined when it is acceptable. */
export function checkValue(value: string, schema: ParamSchema): string | undefined {
  if (schema.enum) {
    // Twilio treats HTTP method names case-insensitively ("post" works).
    const candidate = schema.format === 'http-method' ? value.toUpperCase() : value;
    if (!schema.enum.includes(candidate)) return `must be one of ${schema.enum.join(', ')}`;
  }
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
    return `must match ${schema.pattern}`;
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return `must be at least ${schema.minLength} characters`;
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    return `must be at most ${schema.maxLength} characters`;
  }
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const ok = schema.type === 'integer' ? /^-?\d+$/.test(value) : /^-?\d+(\.\d+)?$/.test(value);
      if (!ok) return `must be ${schema.type === 'integer' ? 'an integer' : 'a number'}`;
      const n = Number(value);
      if (schema.minimum !== undefined && n < schema.minimum) return `must be >= ${schema.minimum}`;
      if (schema.maximum !== undefined && n > schema.maximum) return `must be <= ${schema.maximum}`;
      break;
    }
    case 'boolean':
      if (!/^(true|false)$/i.test(value)) return 'must be true or false';
      break;
  }
  if (schema['x-twilio']?.ignoreFormat) return undefined;
  if (schema.format === 'uri' && value !== '' && !isHttpUrl(value)) {
    return 'must be an absolute http(s) URL';
  }
  if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) {
    return 'must be an ISO 8601 date-time';
  }
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function templateToRegex(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
