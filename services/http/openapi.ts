import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import type { Permission } from '../auth/access.ts';

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with: each routes
 * module lists its operations next to its routes, and this module turns them into paths. Served at
 * /openapi.json, with interactive docs at /docs.
 */
export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI form, e.g. /api/v1/warehouses/{warehouse_id}. */
  path: string;
  summary: string;
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Status of the success answer. */
  success: number;
  /** What the caller's token must grant (services/auth/access.ts); 'public' needs no token. */
  permission: Permission | 'public';
}

type JsonSchema = { properties?: Record<string, unknown>; required?: string[]; [key: string]: unknown };

function jsonSchema(schema: z.ZodType): JsonSchema {
  // Requests are documented as clients send them (before coercions and transforms).
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const { properties = {}, required = [] } = jsonSchema(schema);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: property,
  }));
}

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance', 'request_id'],
  properties: {
    type: { type: 'string', description: 'urn:inventory:problem:<FailureType>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export function openApiDocument(operations: Operation[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const isApi = op.path.startsWith('/api/');
    const headers =
      isApi && op.method !== 'get'
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 200 },
              description: 'replays the first response to the same request',
            },
          ]
        : [];
    const byMethod = paths[op.path] ?? {};
    paths[op.path] = byMethod;
    byMethod[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.permission === 'public'
        ? { security: [] }
        : { 'x-permission': op.permission, description: `Needs the \`${op.permission}\` permission.` }),
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query'), ...headers],
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }
        : {}),
      responses: {
        [String(op.success)]: {
          description: op.success === 204 ? 'done' : 'success',
          ...(op.success === 204 ? {} : { content: { 'application/json': { schema: { type: 'object' } } } }),
        },
        default: {
          description: 'a problem (RFC 9457)',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Inventory service',
      version: '1.0.0',
      description:
        'Stock, reservations and transfers. Errors are application/problem+json (RFC 9457). Every /api/v1 call needs a bearer JWT; its organization claim decides the organization (see README, Security model).',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: { Problem: problem },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

/** GET /openapi.json and the interactive docs at /docs. */
export function openApiRoutes(operations: Operation[]): Router {
  const document = openApiDocument(operations);
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use('/docs', swaggerUi.serve, swaggerUi.setup(document));
  return router;
}
