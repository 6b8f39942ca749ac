/**
 * The two OpenAPI documents: the dashboard's (every route an API key calls, and the probes) at
 * /api/docs-json and in openapi.json, and Twilio's webhooks at /api/docs-webhooks-json and in
 * openapi.webhooks.json. Split so a client generated from the dashboard's document has no
 * webhook operations; built from one Nest document and then finished: schema names without
 * `Dto`, a 400 example that fits each operation, UUID path parameters.
 */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type {
  OperationObject,
  ParameterObject,
  ReferenceObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { WEBHOOKS_PREFIX } from '../common/sms';
import { WEBHOOK_SCHEMAS } from '../modules/twilio-sms';

const EXAMPLE_UUID = '3f0b6a9e-8d0c-4c1e-9a51-2b7f5f7f2f10';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OpenApiDocuments {
  dashboard: OpenAPIObject;
  webhooks: OpenAPIObject;
}

const DESCRIPTION =
  "Connect a customer's own Twilio account to a chatbot, let its AI agent answer inbound SMS, and work the conversations in the inbox. " +
  'Errors always have the shape `{statusCode, code, message, details?}`; every operation lists the codes it can answer. ' +
  'Lists answer `{items, nextCursor}` and take `limit` and `cursor`; unknown query parameters are refused (400). ' +
  'Request bodies are JSON (`Content-Type: application/json`, else 415). ' +
  'Writes that reach Twilio or that a retry could double accept an `Idempotency-Key`. ' +
  'Click "Authorize" and paste an API key (the first start prints a demo key; `npm run cli -- org:create` makes more). ' +
  "Twilio's webhooks are in their own document, /api/docs-webhooks.";

function baseDocument(app: INestApplication, publicBaseUrl: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SMS channel API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer(publicBaseUrl, 'This instance (PUBLIC_BASE_URL)')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description:
        'An API key (`sk_…`, opaque, not a JWT) from `npm run cli -- org:create` or `key:create`, sent as `Authorization: Bearer sk_…`',
    })
    .addSecurityRequirements('bearer')
    .addTag(
      'health',
      'Probes for load balancers and orchestrators (liveness, readiness) and the database check; no API key, not rate-limited.',
    )
    .addTag('chatbots', 'The chatbots of the organization the API key belongs to.')
    .addTag('knowledge', "A chatbot's knowledge base: what its agent answers from.")
    .addTag('agent', "Try a chatbot's agent: the same logic every channel uses.")
    .addTag(
      'sms channel',
      "Connect a chatbot to the customer's own Twilio number: probe, store encrypted, status, disconnect.",
    )
    .addTag(
      'twilio webhooks',
      'Where Twilio posts: inbound SMS and status callbacks, authenticated by the X-Twilio-Signature header, not an API key.',
    )
    .addTag('inbox', "Conversations and messages, human takeover and a human agent's SMS reply.")
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...WEBHOOK_SCHEMAS },
  };
  return document;
}

function* operations(document: OpenAPIObject): Generator<[string, OperationObject]> {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) yield [path, operation];
    }
  }
}

const isReference = (value: unknown): value is ReferenceObject =>
  !!value && typeof value === 'object' && '$ref' in value;

/** Every `…Id` path parameter is a UUID (checked by UuidParam): say so, with an example. */
function describeUuidPathParameters(document: OpenAPIObject): void {
  for (const [, operation] of operations(document)) {
    for (const parameter of operation.parameters ?? []) {
      if (!isReference(parameter) && parameter.in === 'path' && parameter.name.endsWith('Id')) {
        parameter.schema = { type: 'string', format: 'uuid' };
        parameter.example = EXAMPLE_UUID;
      }
    }
  }
}

const SCHEMA_REF = '#/components/schemas/';

/** Calls `onRef` with the schema name of every `$ref` inside `value`, and the object holding it. */
function forEachSchemaRef(
  value: unknown,
  onRef: (name: string, holder: Record<string, unknown>) => void,
): void {
  if (Array.isArray(value)) value.forEach((item) => forEachSchemaRef(item, onRef));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (typeof object.$ref === 'string') onRef(object.$ref.replace(SCHEMA_REF, ''), object);
    Object.values(object).forEach((item) => forEachSchemaRef(item, onRef));
  }
}

/** `CreateChatbotDto` → `CreateChatbot`: the class suffix says nothing to a generated client. */
function renameSchemas(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const renamed = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    if (!name.endsWith('Dto')) continue;
    const bare = name.slice(0, -3);
    renamed.set(name, bare in schemas ? `${bare}Request` : bare);
  }
  document.components!.schemas = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [renamed.get(name) ?? name, schema]),
  );
  const rewrite = (name: string, holder: Record<string, unknown>) => {
    if (renamed.has(name)) holder.$ref = `${SCHEMA_REF}${renamed.get(name)}`;
  };
  forEachSchemaRef(document.paths, rewrite);
  forEachSchemaRef(document.components!.schemas, rewrite);
}

/** What a validation error of this operation looks like: its first body field, path id or query. */
function validationExample(
  document: OpenAPIObject,
  operation: OperationObject,
): { field: string; message: string } | null {
  const body = operation.requestBody;
  const json = body && !isReference(body) ? body.content['application/json']?.schema : undefined;
  const bodySchema = isReference(json)
    ? (document.components?.schemas?.[json.$ref.split('/').pop()!] as SchemaObject | undefined)
    : json;
  const [field] = bodySchema?.required ?? Object.keys(bodySchema?.properties ?? {});
  if (field) {
    const property = bodySchema?.properties?.[field];
    const type = property && !isReference(property) ? property.type : undefined;
    const message =
      type === 'boolean'
        ? `${field} must be a boolean value`
        : type === 'integer'
          ? `${field} must be an integer number`
          : `${field} must be a string`;
    return { field, message };
  }
  const parameters = (operation.parameters ?? []).filter(
    (p): p is ParameterObject => !isReference(p),
  );
  const pathId = parameters.find((p) => p.in === 'path');
  if (pathId) return { field: pathId.name, message: `${pathId.name} must be a UUID` };
  if (parameters.some((p) => p.in === 'query' && p.name === 'limit'))
    return { field: 'limit', message: 'limit must not be greater than 100' };
  return null;
}

function fitValidationExamples(document: OpenAPIObject): void {
  for (const [, operation] of operations(document)) {
    const response = operation.responses?.['400'];
    if (!response || isReference(response)) continue;
    const example = response.content?.['application/json']?.examples?.VALIDATION_FAILED;
    if (!example || isReference(example)) continue;
    const detail = validationExample(document, operation);
    example.value = detail
      ? { ...example.value, details: [detail] }
      : { ...example.value, details: undefined };
  }
}

/** The document with only the paths `keep` selects, its tags and the schemas they reach. */
function subset(
  document: OpenAPIObject,
  keep: (path: string) => boolean,
  info: Partial<OpenAPIObject['info']>,
): OpenAPIObject {
  const paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => keep(path)));
  const schemas = document.components?.schemas ?? {};
  const reached = new Set<string>();
  const walk = (value: unknown): void =>
    forEachSchemaRef(value, (name) => {
      if (reached.has(name)) return;
      reached.add(name);
      walk(schemas[name]);
    });
  walk(paths);
  const tags = new Set(
    Object.values(paths).flatMap((item) => METHODS.flatMap((method) => item[method]?.tags ?? [])),
  );
  return {
    ...document,
    info: { ...document.info, ...info },
    tags: (document.tags ?? []).filter((tag) => tags.has(tag.name)),
    paths,
    components: {
      ...document.components,
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name))),
    },
  };
}

export function buildOpenApiDocuments(
  app: INestApplication,
  publicBaseUrl: string,
): OpenApiDocuments {
  const document = baseDocument(app, publicBaseUrl);
  describeUuidPathParameters(document);
  renameSchemas(document);
  fitValidationExamples(document);
  return {
    dashboard: subset(document, (path) => !path.startsWith(WEBHOOKS_PREFIX), {}),
    webhooks: subset(document, (path) => path.startsWith(WEBHOOKS_PREFIX), {
      title: 'SMS channel API: Twilio webhooks',
      description:
        "Where Twilio posts: the inbound message webhook and the status callback. Not for the dashboard's client: Twilio calls these, signed with X-Twilio-Signature (HMAC-SHA1 of the URL and the form fields with the channel's Auth Token), as form posts answered with TwiML.",
    }),
  };
}
