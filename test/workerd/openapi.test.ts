import { exports } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { StartSyncResult } from "../../durable-objects/account-sync";
import type { AccountPurge, AccountView, ConnectionView } from "../../src/accounts/accounts";
import { createApp } from "../../src/http/app";
import { openApiDocument } from "../../src/http/openapi";
import type * as responses from "../../src/http/responses";
import type { CompletedAuthorization, StartedAuthorization } from "../../src/oauth/flow";
import type { FailedRecordView } from "../../src/pipeline/replay";
import type { PendingDeletesView } from "../../src/pipeline/run-completion";

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
};
type Parameter = { name: string; in: string; required?: boolean; schema: Schema };
type Response = { description: string; content?: Record<string, { schema: Schema }> };
type Operation = {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
};
type Doc = {
  openapi: string;
  info: { title: string; version: string };
  security: Record<string, string[]>[];
  components: {
    securitySchemes: Record<string, { type: string; scheme: string }>;
    schemas: Record<string, Schema>;
  };
  paths: Record<string, Record<string, Operation>>;
};

/** Every method + path the app serves (its own route table), in OpenAPI's `{param}` form. */
function servedRoutes(app: { routes: { method: string; path: string }[] }): string[] {
  const routes = app.routes
    .filter((r) => r.method !== "ALL")
    // Hono keeps a parameter's pattern in its path (`:decision{confirm|reject}`).
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
  return [...new Set(routes)];
}

/** Served routes the document lacks, or describes without a summary, tag or response. */
function undocumented(doc: Doc, served: string[]): string[] {
  return served.filter((route) => {
    const [method = "", path = ""] = route.split(" ");
    const op = doc.paths[path]?.[method];
    return !op?.summary || !op.tags?.length || Object.keys(op.responses).length === 0;
  });
}

const documented = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));

async function fetchDoc(): Promise<Doc> {
  const res = await exports.default.fetch("http://etl.test/openapi.json");
  expect(res.status).toBe(200);
  return res.json<Doc>();
}

describe("OpenAPI document", () => {
  it("documents every route the Worker serves, and nothing it doesn't", async () => {
    const app = createApp();
    const served = servedRoutes(app);
    const doc = await fetchDoc();
    expect(served.length).toBeGreaterThan(20);
    expect(undocumented(doc, served)).toEqual([]);
    expect(new Set(documented(doc))).toEqual(new Set(served));
  });

  it("leaves out a route added without a description, which the completeness check then names", async () => {
    const app = createApp();
    app.get("/admin/undescribed", (c) => c.text("x"));
    const doc = (await openApiDocument(app)) as unknown as Doc;
    expect(undocumented(doc, servedRoutes(app))).toEqual(["get /admin/undescribed"]);
  });

  it("is OpenAPI 3.1 with both auth schemes, public routes marked, and every $ref resolving", async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: "edge-etl", version: "1.0.0" });
    expect(doc.components.securitySchemes).toMatchObject({
      adminToken: { type: "http", scheme: "bearer" },
      accountKey: { type: "http", scheme: "bearer" },
    });
    expect(doc.security).toEqual([{ adminToken: [] }, { accountKey: [] }]);
    expect(doc.paths["/admin/accounts"]?.post?.security).toEqual([{ adminToken: [] }]);
    for (const path of ["/health", "/openapi.json", "/docs", "/webhooks/{provider}/{connectionId}"]) {
      for (const op of Object.values(doc.paths[path] ?? {})) expect(op.security).toEqual([]);
    }
    expect(doc.paths["/admin/accounts/{accountId}/status"]?.get?.security).toBeUndefined();

    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(refs.length).toBeGreaterThan(50);
    for (const name of new Set(refs)) expect(doc.components.schemas[name ?? ""], name).toBeDefined();

    // Path parameters are declared for every templated segment.
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared.sort(), path).toEqual(names.sort());
      }
    }
  });

  it("describes every error answer with the {error: {code, message}} body", async () => {
    const doc = await fetchDoc();
    expect(doc.components.schemas.Error).toMatchObject({
      type: "object",
      required: ["error"],
      properties: {
        error: {
          type: "object",
          required: ["code", "message"],
          properties: { code: { type: "string" }, message: { type: "string" } },
        },
      },
    });
    let errorResponses = 0;
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || op === doc.paths["/health"]?.get) continue;
          expect(response.content?.["application/json"]?.schema).toEqual({
            $ref: "#/components/schemas/Error",
          });
          errorResponses++;
        }
      }
    }
    expect(errorResponses).toBeGreaterThan(80);
  });

  it("takes request schemas from the validators: sync body, failed-records filters, replay body", async () => {
    const doc = await fetchDoc();
    const sync =
      doc.paths["/admin/accounts/{accountId}/sync"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(sync?.properties?.mode?.enum).toEqual(["delta", "onboarding"]);
    expect(sync?.required).toEqual(["mode"]);

    const list = doc.paths["/admin/accounts/{accountId}/failed"]?.get;
    const query = Object.fromEntries(
      (list?.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p]),
    );
    expect(Object.keys(query).sort()).toEqual(
      ["connectionId", "cursor", "entity", "errorCode", "from", "limit", "status", "to"].sort(),
    );
    expect(query.status?.schema.enum).toEqual(["open", "resolved", "all"]);
    expect(query.limit?.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 500, default: 50 });
    expect(query.limit?.required).toBe(false);
    expect(query.from?.schema).toMatchObject({ type: "string", format: "date-time" });

    const replay = doc.paths["/admin/accounts/{accountId}/failed/replay"]?.post?.requestBody?.content[
      "application/json"
    ]?.schema as Schema & { additionalProperties?: boolean };
    expect(replay.properties?.limit).toMatchObject({ maximum: 1000, default: 500 });
    expect(replay.properties?.force?.type).toBe("boolean");
    expect(replay.additionalProperties).toBe(false);

    const decide = doc.paths["/admin/accounts/{accountId}/deletes/{runId}/{decision}"]?.post;
    expect(decide?.parameters?.find((p) => p.name === "decision")?.schema.enum).toEqual([
      "confirm",
      "reject",
    ]);
  });

  it("describes success bodies: a failed-records page, a created account, a webhook acknowledgement", async () => {
    const doc = await fetchDoc();
    const json = (path: string, method: string, status: string) =>
      doc.paths[path]?.[method]?.responses[status]?.content?.["application/json"]?.schema;

    const page = json("/admin/accounts/{accountId}/failed", "get", "200");
    expect(page?.required?.sort()).toEqual(["items", "nextCursor"]);
    expect(page?.properties?.items?.items?.properties?.exhausted?.type).toBe("boolean");
    expect(Object.keys(page?.properties?.items?.items?.properties ?? {})).toContain("errorCode");

    expect(JSON.stringify(doc)).not.toContain("9007199254740991");
    const connect = doc.paths["/admin/accounts/{accountId}/connections"]?.post?.requestBody?.content[
      "application/json"
    ]?.schema as Schema & { properties: Record<string, { description?: string }> };
    expect(connect.properties.provider?.description).toMatch(/^one of: .*\bfub\b/);

    const created = json("/admin/accounts", "post", "201");
    expect(created?.properties?.apiKey?.type).toBe("string");
    expect(created?.properties?.account?.required?.sort()).toEqual(["createdAt", "id", "name"]);

    expect(json("/webhooks/{provider}/{connectionId}", "post", "202")?.properties?.status?.enum).toEqual([
      "accepted",
      "duplicate",
    ]);
  });

  it("describes the bodies the handlers really return", () => {
    type Of<S extends z.ZodType> = z.infer<S>;
    expectTypeOf<Of<typeof responses.accountView>>().toEqualTypeOf<AccountView>();
    expectTypeOf<Of<typeof responses.connectionView>>().toEqualTypeOf<ConnectionView>();
    expectTypeOf<Of<typeof responses.failedRecord>>().toEqualTypeOf<FailedRecordView>();
    expectTypeOf<Of<typeof responses.heldDelete>>().toEqualTypeOf<PendingDeletesView>();
    expectTypeOf<Of<typeof responses.startSyncResult>>().toEqualTypeOf<StartSyncResult>();
    expectTypeOf<Of<typeof responses.oauthStarted>>().toEqualTypeOf<StartedAuthorization>();
    expectTypeOf<Omit<Of<typeof responses.oauthCompleted>, "sync">>().toEqualTypeOf<CompletedAuthorization>();
    expectTypeOf<Omit<Of<typeof responses.accountPurged>, "objectStorage">>().toEqualTypeOf<AccountPurge>();
  });
});

describe("reference page", () => {
  it("serves /docs and every file it loads from the Worker, without authentication or external URLs", async () => {
    const res = await exports.default.fetch("http://etl.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    // The browser refuses anything the page would load from elsewhere.
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'self';.*script-src 'self';/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(loaded.sort()).toEqual(["/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]);

    const bundle = await exports.default.fetch("http://etl.test/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("text/javascript");
    const script = await bundle.text();
    expect(script.length).toBeGreaterThan(1_000_000);
    expect(script).toContain("SwaggerUIBundle");

    const css = await exports.default.fetch("http://etl.test/docs/swagger-ui.css");
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(await css.text()).toContain(".swagger-ui");

    const init = await (await exports.default.fetch("http://etl.test/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    // The UI would otherwise send the document to swagger.io's online validator.
    expect(init).toContain("validatorUrl: null");
    expect(init).not.toMatch(/https?:/);
  });
});
