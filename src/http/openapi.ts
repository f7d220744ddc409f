import type { Hono } from "hono";
import { describeRoute, generateSpecs } from "hono-openapi";
import { z } from "zod";
import type { Env } from "../env";

/**
 * Building blocks for the `describeRoute(...)` each route carries. The document is generated from those
 * descriptions and the app's own route table, so a path or method cannot drift from what is served, and
 * request schemas are the zod schemas the handlers validate with.
 */

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema: requests as the client may send them (defaults optional), responses as sent. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...doc } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ jsonSchema }) => {
      // zod bounds every .int() by the safe-integer range; that is noise to a reader, not a limit of the API.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  });
  return doc;
}

/** A JSON request body validated by `schema`. */
export function jsonRequest(schema: z.ZodType) {
  return {
    required: true,
    content: { "application/json": { schema: jsonSchema(schema, "input") } },
  };
}

/** One query parameter per property of `schema` (the route parses the query with the same schema). */
export function queryParameters(schema: z.ZodObject) {
  const doc = jsonSchema(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(doc.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query" as const,
    required: doc.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** The body of every error answer. */
export const apiError = z.object({
  error: z.object({
    code: z.string().meta({ description: "stable, machine-readable reason, e.g. invalid_request" }),
    message: z.string().meta({ description: "what went wrong, for a person; never secrets or payloads" }),
  }),
});

const errorRef = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/** A success answer, with the schema of its JSON body when it has one. */
export function ok(description: string, schema?: z.ZodType) {
  return schema
    ? { description, content: { "application/json": { schema: jsonSchema(schema, "output") } } }
    : { description };
}

/** Error answers by status, each with the `{"error": {"code", "message"}}` body. */
export function errors(byStatus: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(byStatus).map(([status, description]) => [status, { description, content: errorRef }]),
  );
}

/** What any route under /admin/accounts/:accountId may answer besides its own outcomes. */
export const accountErrors = {
  "400": "invalid request (malformed URL or body, NUL or lone surrogate, impossible date, nesting over 32)",
  "401": "no or bad credentials",
  "404": "no such account (or another account's, for an account key)",
  "413": "body over 64 KB",
  "415": "a body that is not application/json",
};

/** Routes anyone may call (the document's default is the admin token or an account key). */
export const PUBLIC = { security: [] };
/** A public route that serves a file or a page rather than JSON (the reference UI, a console's assets). */
export function publicFile(summary: string, tag = "system") {
  return describeRoute({ tags: [tag], summary, ...PUBLIC, responses: { "200": ok(summary) } });
}

/** Routes only the operator's admin token may call. */
export const ADMIN_ONLY = { security: [{ adminToken: [] as string[] }] };

const documentation = {
  info: {
    title: "edge-etl",
    version: "1.0.0",
    description:
      'Keeps one Postgres in step with real-estate SaaS providers. Admin routes take `Authorization: Bearer` with the admin token (all accounts) or an account API key (its own account only). Every error answers `{"error": {"code", "message"}}`.',
  },
  components: {
    securitySchemes: {
      adminToken: {
        type: "http" as const,
        scheme: "bearer",
        description:
          "The operator's ADMIN_TOKEN: every account, and the only caller that may create accounts",
      },
      accountKey: {
        type: "http" as const,
        scheme: "bearer",
        description: "An account's API key (returned once when the account is created): that account only",
      },
    },
    schemas: { Error: jsonSchema(apiError, "output") },
  },
  security: [{ adminToken: [] }, { accountKey: [] }] as Record<string, string[]>[],
};

/** The OpenAPI 3.1 document of every described route of `app`. */
export async function openApiDocument(app: Hono<{ Bindings: Env }>) {
  // /openapi.json looks like a static file to the generator, which would leave it out by default.
  return generateSpecs(app, { documentation, excludeStaticFile: false });
}
