import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { safeErrorMessage, sanitizeError } from "../../src/core/safe-error";
import { withDb } from "../../src/db/client";
import { handleError } from "../../src/http/errors";
import { databaseError } from "../../src/pipeline/failures";

const SECRET = "payload-secret-4711";

/** The error a real failing query throws, through the Worker's own driver and ORM. */
async function failing(query: ReturnType<typeof sql>): Promise<unknown> {
  return withDb(env, (db) => db.execute(query)).then(
    () => {
      throw new Error("the query was expected to fail");
    },
    (error: unknown) => error,
  );
}

describe("the error sanitizer", () => {
  it("keeps the SQLSTATE and drops the statement, its parameters and quoted input", async () => {
    const error = await failing(sql`select ${SECRET}::int as n, ${`${SECRET}-2`}::text as t`);
    expect(String((error as Error).message)).toContain(SECRET); // what must never leave
    for (const safe of [sanitizeError(error), databaseError(error)]) {
      expect(safe.code).toBe("22P02");
      expect(safe.message).toMatch(/invalid input syntax for type integer/);
      expect(safe.message).not.toContain(SECRET);
      expect(safe.message).not.toMatch(/select|params/i);
    }
    expect(safeErrorMessage(error)).not.toContain(SECRET);
  });

  it("drops an ORM wrapper's text even with no database error behind it", () => {
    const wrapped = new Error(`Failed query: insert into t values ($1)\nparams: ${SECRET}`);
    expect(sanitizeError(wrapped)).toEqual({ code: null, message: "database error" });
    let parseError: unknown;
    try {
      JSON.parse(`${SECRET}`);
    } catch (error) {
      parseError = error;
    }
    expect(String((parseError as Error).message)).toContain(SECRET);
    expect(safeErrorMessage(parseError)).not.toContain(SECRET);
    const controls = sanitizeError(new Error(`bad\u0000line\nnext: "${SECRET}"`));
    expect(controls.message).not.toContain(SECRET);
    expect(controls.message.includes("\u0000") || controls.message.includes("\n")).toBe(false);
  });

  it("turns a data exception reaching the app's error handler into 400 without SQL; others into a bare 500", async () => {
    const dataError = await failing(sql`select ${`${SECRET}\u0000`}::text`);
    const otherError = await failing(sql`select * from no_such_table_${sql.raw("x")} where a = ${SECRET}`);
    const app = new Hono()
      .get("/data", () => {
        throw dataError;
      })
      .get("/other", () => {
        throw otherError;
      })
      .onError(handleError);
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const data = await app.request("/data");
      expect(data.status).toBe(400);
      const dataText = await data.text();
      expect(JSON.parse(dataText)).toMatchObject({ error: { code: "invalid_input" } });
      const other = await app.request("/other");
      expect(other.status).toBe(500);
      for (const text of [dataText, await other.text(), JSON.stringify(logged)]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toMatch(/select|params/i);
      }
      expect(logged.length).toBe(1);
    } finally {
      console.error = original;
    }
  });
});
