// Dotloop OAuth2 (authorization code, web-server apps): authorize, token, revoke, as the
// published guide and a public client describe them. Real Dotloop serves these on
// auth.dotloop.com; the simulator serves them on its own origin under /oauth.

import { Hono } from "hono";
import type { SimCore } from "./app";

export interface OAuthSettings {
  /** access token lifetime (published: "usually 12 hours") */
  accessTokenTtlSec: number;
  /** a refresh issues a new refresh token and retires the old one (choice: true) */
  refreshRotation: boolean;
  /** a refresh also ends the access token it replaces (choice: false, it lives to its expiry) */
  refreshRevokesAccess: boolean;
  /** authorization code lifetime */
  codeTtlSec: number;
}

export const DEFAULT_OAUTH: OAuthSettings = {
  accessTokenTtlSec: 12 * 3600,
  refreshRotation: true,
  refreshRevokesAccess: false,
  codeTtlSec: 600,
};

export const SCOPE = "account:read profile:* loop:* contact:* template:read";

interface Grant {
  id: number;
  clientId: string;
  userId: number;
  revoked: boolean;
}
interface AccessToken {
  grant: Grant;
  expiresAt: number;
  revoked: boolean;
}
interface RefreshToken {
  grant: Grant;
  revoked: boolean;
}

export class OAuthStore {
  settings: OAuthSettings = { ...DEFAULT_OAUTH };
  readonly clients = new Map<string, { secret: string; redirectUris: string[] | null }>();
  readonly codes = new Map<
    string,
    { clientId: string; userId: number; redirectUri: string; expiresAt: number; used: boolean }
  >();
  readonly access = new Map<string, AccessToken>();
  readonly refresh = new Map<string, RefreshToken>();
  /** who "logs in" at the authorize page: a user id, or the first user; deny refuses consent */
  login: { userId: number | null; deny: boolean } = { userId: null, deny: false };
  private grantSeq = 0;
  readonly stats = {
    authorized: 0,
    denied: 0,
    codeExchanges: 0,
    refreshes: 0,
    refreshRefused: 0,
    revokes: 0,
  };

  issue(grant: Grant, now: number): { access_token: string; refresh_token: string; expires_in: number } {
    const access_token = crypto.randomUUID();
    const refresh_token = crypto.randomUUID();
    this.access.set(access_token, {
      grant,
      expiresAt: now + this.settings.accessTokenTtlSec * 1000,
      revoked: false,
    });
    this.refresh.set(refresh_token, { grant, revoked: false });
    return { access_token, refresh_token, expires_in: this.settings.accessTokenTtlSec };
  }

  newGrant(clientId: string, userId: number): Grant {
    return { id: ++this.grantSeq, clientId, userId, revoked: false };
  }

  /** The user and client behind a bearer token, or why it is refused. */
  check(
    token: string,
    now: number,
  ): { userId: number; clientId: string } | { error: string; userId?: number } {
    const t = this.access.get(token);
    if (!t) return { error: "Invalid access token" };
    if (t.revoked || t.grant.revoked) return { error: "Access token revoked", userId: t.grant.userId };
    if (now >= t.expiresAt) return { error: "Access token expired", userId: t.grant.userId };
    return { userId: t.grant.userId, clientId: t.grant.clientId };
  }

  /** Refuse every refresh token of a user from now on (the user revoked the app elsewhere). */
  revokeRefreshOf(userId: number): number {
    let n = 0;
    for (const r of this.refresh.values()) {
      if (r.grant.userId === userId && !r.revoked) {
        r.revoked = true;
        n++;
      }
    }
    return n;
  }

  /** End every access token of a user now (as if 12 hours had passed for them). */
  expireAccessOf(userId: number, now: number): number {
    let n = 0;
    for (const a of this.access.values()) {
      if (a.grant.userId === userId && a.expiresAt > now) {
        a.expiresAt = now;
        n++;
      }
    }
    return n;
  }
}

function oauthError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}

function basicClient(header: string | undefined): { id: string; secret: string } | null {
  if (!header?.startsWith("Basic ")) return null;
  try {
    const raw = atob(header.slice(6).trim());
    const i = raw.indexOf(":");
    if (i < 0) return null;
    return { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
  } catch {
    return null;
  }
}

/** Token-call parameters: the query string (as the public client sends them), else a form body. */
async function params(req: Request): Promise<URLSearchParams> {
  const merged = new URLSearchParams();
  const ct = req.headers.get("Content-Type") ?? "";
  if (ct.includes("application/x-www-form-urlencoded")) {
    const body = new URLSearchParams(await req.text());
    for (const [k, v] of body) merged.set(k, v);
  }
  for (const [k, v] of new URL(req.url).searchParams) merged.set(k, v);
  return merged;
}

function withQuery(uri: string, q: Record<string, string>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return u.toString();
}

function page(status: number, text: string): Response {
  return new Response(`<!doctype html><title>dotloop</title><p>${text}</p>`, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

export function oauthRoutes(sim: SimCore): Hono {
  const app = new Hono();
  const store = sim.oauth;

  app.get("/authorize", (c) => {
    const q = new URL(c.req.url).searchParams;
    const clientId = q.get("client_id") ?? "";
    const redirectUri = q.get("redirect_uri") ?? "";
    const state = q.get("state");
    const client = store.clients.get(clientId);
    if (q.get("response_type") !== "code") return page(400, "unsupported response_type");
    if (!client) return page(400, "unknown client_id");
    let valid = false;
    try {
      valid = /^https?:$/.test(new URL(redirectUri).protocol);
    } catch {
      valid = false;
    }
    if (!valid || (client.redirectUris && !client.redirectUris.includes(redirectUri))) {
      return page(400, "redirect_uri is not registered for this client");
    }
    // Sim extension: ?user_id= picks who logs in; else the control plane's choice, else the first user.
    const userParam = q.get("user_id");
    const userId = userParam ? Number(userParam) : (store.login.userId ?? [...sim.users.keys()][0]);
    const deny = store.login.deny || q.get("deny") === "true";
    if (userId === undefined || !sim.users.has(userId)) return page(400, "no such user");
    if (deny) {
      store.stats.denied++;
      // Published: without redirect_on_deny=true the user stays on Dotloop's page.
      if (q.get("redirect_on_deny") !== "true") return page(200, "You denied access to the application.");
      return c.redirect(
        withQuery(redirectUri, { error: "access_denied", ...(state !== null ? { state } : {}) }),
        302,
      );
    }
    const code = crypto.randomUUID().replace(/-/g, "").slice(0, 20);
    store.codes.set(code, {
      clientId,
      userId,
      redirectUri,
      expiresAt: sim.rt.now() + store.settings.codeTtlSec * 1000,
      used: false,
    });
    store.stats.authorized++;
    return c.redirect(withQuery(redirectUri, { code, ...(state !== null ? { state } : {}) }), 302);
  });

  app.post("/token", async (c) => {
    const cred = basicClient(c.req.header("Authorization"));
    const client = cred ? store.clients.get(cred.id) : undefined;
    if (!cred || !client || client.secret !== cred.secret) {
      return oauthError(401, "invalid_client", "Bad client credentials");
    }
    const p = await params(c.req.raw);
    const now = sim.rt.now();
    const grantType = p.get("grant_type");
    if (grantType === "authorization_code") {
      const code = store.codes.get(p.get("code") ?? "");
      if (!code || code.used || code.clientId !== cred.id || now >= code.expiresAt) {
        return oauthError(400, "invalid_grant", "Invalid authorization code");
      }
      if ((p.get("redirect_uri") ?? "") !== code.redirectUri) {
        return oauthError(400, "invalid_grant", "Redirect URI mismatch");
      }
      code.used = true;
      store.stats.codeExchanges++;
      const tokens = store.issue(store.newGrant(cred.id, code.userId), now);
      return c.json({ ...tokens, token_type: "Bearer", scope: SCOPE });
    }
    if (grantType === "refresh_token") {
      const token = p.get("refresh_token") ?? "";
      const r = store.refresh.get(token);
      if (!r || r.revoked || r.grant.revoked || r.grant.clientId !== cred.id) {
        store.stats.refreshRefused++;
        return oauthError(400, "invalid_grant", "Invalid refresh token");
      }
      store.stats.refreshes++;
      if (store.settings.refreshRevokesAccess) {
        for (const a of store.access.values()) if (a.grant === r.grant) a.revoked = true;
      }
      if (store.settings.refreshRotation) {
        r.revoked = true;
        const tokens = store.issue(r.grant, now);
        return c.json({ ...tokens, token_type: "Bearer", scope: SCOPE });
      }
      const access_token = crypto.randomUUID();
      store.access.set(access_token, {
        grant: r.grant,
        expiresAt: now + store.settings.accessTokenTtlSec * 1000,
        revoked: false,
      });
      return c.json({
        access_token,
        token_type: "Bearer",
        refresh_token: token,
        expires_in: store.settings.accessTokenTtlSec,
        scope: SCOPE,
      });
    }
    return oauthError(
      400,
      "unsupported_grant_type",
      "grant_type must be authorization_code or refresh_token",
    );
  });

  app.post("/token/revoke", async (c) => {
    const cred = basicClient(c.req.header("Authorization"));
    const client = cred ? store.clients.get(cred.id) : undefined;
    if (!cred || !client || client.secret !== cred.secret) {
      return oauthError(401, "invalid_client", "Bad client credentials");
    }
    const token = (await params(c.req.raw)).get("token") ?? "";
    // Choice: revoking either token of a grant ends the whole grant (access and refresh).
    const grant = store.access.get(token)?.grant ?? store.refresh.get(token)?.grant;
    if (grant && grant.clientId === cred.id) {
      grant.revoked = true;
      store.stats.revokes++;
    }
    // Like RFC 7009, an unknown token is not an error.
    return c.json({});
  });

  return app;
}
