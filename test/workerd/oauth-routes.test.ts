import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uniqueId } from "../support/db";

// The connect flow's routes as a client meets them: authentication, and clear 4xx answers for what the
// flow refuses. The flow itself, against the Dotloop simulator, is in oauth-flow.test.ts.

const ADMIN = { Authorization: "Bearer test-admin-token" };
const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`http://etl.test${path}`, init);

async function error(res: Response): Promise<{ status: number; code: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.message).toBe("string");
  return { status: res.status, code: body.error.code };
}

async function fubAccount() {
  const accountId = uniqueId("acc");
  const created = await call("/admin/accounts", {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ id: accountId, name: "oauth routes" }),
  });
  expect(created.status).toBe(201);
  const { apiKey } = (await created.json()) as { apiKey: string };
  const conn = await call(`/admin/accounts/${accountId}/connections`, {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ provider: "fub", credentials: { apiKey: "k" } }),
  });
  expect(conn.status).toBe(201);
  const { id } = (await conn.json()) as { id: string };
  return { accountId, apiKey, connectionId: id };
}

describe("OAuth routes", () => {
  it("start needs the admin token or the account's own key", async () => {
    const { accountId, connectionId } = await fubAccount();
    const other = await fubAccount();
    const path = `/admin/accounts/${accountId}/connections/${connectionId}/oauth/start`;
    expect(await error(await call(path))).toEqual({ status: 401, code: "unauthorized" });
    const foreign = await call(path, { headers: { Authorization: `Bearer ${other.apiKey}` } });
    expect(await error(foreign)).toEqual({ status: 404, code: "account_not_found" });
  });

  it("start refuses a provider without OAuth, an unknown provider and a new connection without one", async () => {
    const { accountId, apiKey, connectionId } = await fubAccount();
    const key = { Authorization: `Bearer ${apiKey}` };
    const base = `/admin/accounts/${accountId}/connections`;
    expect(await error(await call(`${base}/${connectionId}/oauth/start`, { headers: key }))).toEqual({
      status: 400,
      code: "oauth_unsupported",
    });
    expect(
      await error(await call(`${base}/new/oauth/start?provider=fub`, { method: "POST", headers: key })),
    ).toEqual({ status: 400, code: "oauth_unsupported" });
    expect(await error(await call(`${base}/new/oauth/start?provider=nosuch`, { headers: ADMIN }))).toEqual({
      status: 404,
      code: "unknown_provider",
    });
    expect(await error(await call(`${base}/new/oauth/start`, { headers: ADMIN }))).toEqual({
      status: 400,
      code: "provider_required",
    });
    expect(await error(await call(`${base}/new/oauth/start?redirect=maybe`, { headers: ADMIN }))).toEqual({
      status: 400,
      code: "invalid_query",
    });
    // An account key can't pick an id it doesn't hold.
    expect(await error(await call(`${base}/con_chosen/oauth/start?provider=fub`, { headers: key }))).toEqual({
      status: 404,
      code: "connection_not_found",
    });
  });

  it("the callback refuses a missing or forged state, and an unknown provider, with a 4xx", async () => {
    expect(await error(await call("/oauth/callback/fub?code=abc"))).toEqual({
      status: 400,
      code: "invalid_state",
    });
    expect(await error(await call("/oauth/callback/fub?code=abc&state=eyJ9.deadbeef"))).toEqual({
      status: 400,
      code: "invalid_state",
    });
    expect(await error(await call("/oauth/callback/fub?error=access_denied&state=x"))).toEqual({
      status: 400,
      code: "invalid_state",
    });
    expect(await error(await call("/oauth/callback/nosuch?code=abc&state=x"))).toEqual({
      status: 404,
      code: "unknown_provider",
    });
  });

  it("deleting a connection without an OAuth grant reports no revocation", async () => {
    const { accountId, connectionId } = await fubAccount();
    const res = await call(`/admin/accounts/${accountId}/connections/${connectionId}`, {
      method: "DELETE",
      headers: ADMIN,
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("x-oauth-revocation")).toBeNull();
  });
});
