import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AdminClient } from "../../tools/lib/admin-client";
import { freePort } from "../../tools/lib/postgres";
import { type Stack, startStack } from "../../tools/lib/stack";

/**
 * wrangler dev with Postgres for an OAuth provider whose authorization server and API a simulator plays: the
 * provider's OAUTH_<PROVIDER>_* variables point at it, and the callback comes back to this stack's Worker.
 */
export async function startOAuthStack(opts: {
  /** Names the temp dir, the admin token and the OAuth state secret. */
  name: string;
  provider: string;
  clientId: string;
  clientSecret: string;
  authBaseUrl: string;
  apiBaseUrl: string;
  log?: (line: string) => void;
}): Promise<{ stack: Stack; admin: AdminClient; stop(): Promise<void> }> {
  const persistTo = mkdtempSync(path.join(os.tmpdir(), `edge-etl-${opts.name}-`));
  const workerPort = await freePort();
  const p = opts.provider.toUpperCase();
  const stack = await startStack({
    mode: "test",
    workerPort,
    adminToken: `${opts.name}-admin`,
    credentialsKey: "e2e1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    persistTo,
    ...(opts.log ? { log: opts.log } : {}),
    extraVars: {
      OAUTH_STATE_SECRET: `${opts.name}-state-secret-0123456789`,
      [`OAUTH_${p}_CLIENT_ID`]: opts.clientId,
      [`OAUTH_${p}_CLIENT_SECRET`]: opts.clientSecret,
      [`OAUTH_${p}_AUTH_BASE_URL`]: opts.authBaseUrl,
      [`OAUTH_${p}_API_BASE_URL`]: opts.apiBaseUrl,
      OAUTH_REDIRECT_BASE_URL: `http://127.0.0.1:${workerPort}`,
    },
  });
  return {
    stack,
    admin: new AdminClient(stack.workerUrl, stack.adminToken),
    async stop() {
      await stack.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

export type Authorised = {
  authorizeUrl: string;
  authorizeStatus: number;
  callbackUrl: string;
  status: number;
  body: Record<string, unknown>;
};

/**
 * The connect flow as a user's browser walks it: the start URL from the admin API, the provider's authorize
 * page (the simulator consents at once and redirects), then our callback, which answers the connection.
 * `existing` re-authorises that connection instead of creating one.
 */
export async function authoriseOAuth(
  admin: AdminClient,
  provider: string,
  accountId: string,
  existing?: string,
): Promise<Authorised> {
  const { authorizeUrl } = await admin.ok<{ authorizeUrl: string }>(
    "GET",
    `/admin/accounts/${accountId}/connections/${existing ?? "new"}/oauth/start?provider=${provider}`,
  );
  const authorize = await fetch(authorizeUrl, { redirect: "manual" });
  const callbackUrl = authorize.headers.get("location") ?? "";
  const res = await fetch(callbackUrl, { redirect: "manual" });
  return {
    authorizeUrl,
    authorizeStatus: authorize.status,
    callbackUrl,
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
  };
}
