import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { documentedRoutes } from "../../src/http/openapi";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
};

describe("OpenAPI document and reference page", () => {
  it("documents every route the Worker serves, and nothing it doesn't", () => {
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL")
      // Hono keeps a route's regex constraint in its path (`:decision{confirm|reject}`).
      .map((r) => `${r.method} ${r.path.replace(/\{[^}]*\}/g, "").replace(/\/$/, "") || "/"}`);
    expect(new Set(served)).toEqual(new Set(documentedRoutes()));
  });

  it("serves /openapi.json with request schemas taken from the validators", async () => {
    const res = await exports.default.fetch("http://etl.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<Doc>();
    expect(doc.openapi).toBe("3.1.0");
    const sync = doc.paths["/admin/accounts/{accountId}/sync"]?.post?.requestBody?.content["application/json"]
      ?.schema as { properties: Record<string, { enum?: string[] }>; required: string[] };
    expect(sync.properties.mode?.enum).toEqual(["delta", "onboarding"]);
    expect(sync.required).toEqual(["mode"]);
  });

  it("serves a browsable reference page without authentication", async () => {
    const res = await exports.default.fetch("http://etl.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });
});
