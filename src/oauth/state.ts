import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../core/encoding";
import { AppError } from "../core/errors";
import { hmacHex, timingSafeEqual } from "../core/signatures";

/**
 * The `state` of an OAuth authorization: who asked (account, connection, provider), until when, and a nonce
 * that makes it single-use. Signed with HMAC-SHA256 under OAUTH_STATE_SECRET; it carries no secret, only
 * names, since it travels through the user's browser and the provider.
 */
export type OAuthState = {
  accountId: string;
  connectionId: string;
  provider: string;
  /** Epoch ms after which the callback refuses it. */
  expiresAt: number;
  nonce: string;
};

type Wire = { a: string; c: string; p: string; e: number; n: string };

export const STATE_TTL_MS = 10 * 60_000;

const invalid = (message: string) => new AppError(400, "invalid_state", message);

export async function signState(secret: string, state: OAuthState): Promise<string> {
  const wire: Wire = {
    a: state.accountId,
    c: state.connectionId,
    p: state.provider,
    e: state.expiresAt,
    n: state.nonce,
  };
  const body = toBase64Url(utf8(JSON.stringify(wire)));
  return `${body}.${await hmacHex("SHA-256", secret, body)}`;
}

/** The state's content when its signature holds and it has not expired; a 400 otherwise. */
export async function verifyState(
  secret: string,
  token: string,
  provider: string,
  now: number,
): Promise<OAuthState> {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.length > 2048) throw invalid("the state is malformed");
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (!timingSafeEqual(signature, await hmacHex("SHA-256", secret, body))) {
    throw invalid("the state's signature does not verify");
  }
  let wire: Wire;
  try {
    wire = JSON.parse(fromUtf8(fromBase64Url(body))) as Wire;
  } catch {
    throw invalid("the state is malformed");
  }
  if (
    typeof wire.a !== "string" ||
    typeof wire.c !== "string" ||
    typeof wire.p !== "string" ||
    typeof wire.e !== "number" ||
    typeof wire.n !== "string"
  ) {
    throw invalid("the state is malformed");
  }
  if (wire.p !== provider) throw invalid("the state was issued for another provider");
  if (wire.e <= now) throw invalid("the state has expired; start the authorization again");
  return { accountId: wire.a, connectionId: wire.c, provider: wire.p, expiresAt: wire.e, nonce: wire.n };
}
