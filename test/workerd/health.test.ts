import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /health", () => {
  it("answers 200 when Postgres is reachable through the Neon driver", async () => {
    const res = await exports.default.fetch("http://etl.test/health");
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; database: string }>();
    expect(body).toMatchObject({ status: "ok", database: "reachable" });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await exports.default.fetch("http://etl.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
