import { defineConnector } from "../../src/connectors/define";
import { AppError } from "../../src/core/errors";
import { oauthClient } from "../../src/oauth/config";
import { signState, verifyState } from "../../src/oauth/state";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

const STATE = {
  accountId: "acc_1",
  connectionId: "con_1",
  provider: "dl",
  expiresAt: 2_000_000,
  nonce: "n1",
};

async function refusal(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e: unknown) => (e instanceof AppError ? `${e.status} ${e.code}` : "other"),
  );
}

test("oauth state: signed, verified, and refused when forged, expired, foreign or signed with another key", async () => {
  const token = await signState("k1", STATE);
  assertDeepEqual(await verifyState("k1", token, "dl", 1_000_000), STATE);
  assertEqual(await refusal(verifyState("k2", token, "dl", 1_000_000)), "400 invalid_state");
  assertEqual(await refusal(verifyState("k1", token, "other", 1_000_000)), "400 invalid_state");
  assertEqual(await refusal(verifyState("k1", token, "dl", 2_000_000)), "400 invalid_state");
  const [body, sig] = token.split(".");
  const forged = await signState("k1", { ...STATE, accountId: "acc_2" });
  assertEqual(
    await refusal(verifyState("k1", `${forged.split(".")[0]}.${sig}`, "dl", 1)),
    "400 invalid_state",
  );
  assertEqual(await refusal(verifyState("k1", `${body}`, "dl", 1)), "400 invalid_state");
  assertTrue(!token.includes("k1"), "the key is not in the state");
});

test("oauth client: declared URLs rebased on the environment's origin, credentials from its variables", () => {
  const connector = defineConnector({
    provider: "dl",
    defaultBaseUrl: "https://api.example.test/v2",
    auth: {
      kind: "bearer",
      tokenField: "accessToken",
      oauth: {
        authorizeUrl: "https://auth.example.test/oauth/authorize",
        tokenUrl: "https://auth.example.test/oauth/token",
        revokeUrl: "https://auth.example.test/oauth/token/revoke",
        clientAuth: "basic",
        scopes: [],
      },
    },
    paging: { style: "page-number", pageSize: 1, pageParam: "p", sizeParam: "s", firstPage: 1 },
    rateLimit: { limit: 1, windowMs: 1, headers: { limit: "l", remaining: "r" } },
    webhooks: null,
    byIds: null,
    entities: {},
  });
  const vars = { OAUTH_DL_CLIENT_ID: "id", OAUTH_DL_CLIENT_SECRET: "secret" };
  const real = oauthClient(connector, vars);
  assertEqual(real.tokenUrl, "https://auth.example.test/oauth/token");
  assertEqual(real.apiBaseUrl, null);
  const local = oauthClient(connector, {
    ...vars,
    OAUTH_DL_AUTH_BASE_URL: "http://127.0.0.1:8789/",
    OAUTH_DL_API_BASE_URL: "http://127.0.0.1:8789/public/v2",
  });
  assertEqual(local.authorizeUrl, "http://127.0.0.1:8789/oauth/authorize");
  assertEqual(local.revokeUrl, "http://127.0.0.1:8789/oauth/token/revoke");
  assertEqual(local.apiBaseUrl, "http://127.0.0.1:8789/public/v2");
  let code = "";
  try {
    oauthClient(connector, {});
  } catch (e) {
    code = e instanceof AppError ? e.code : "other";
  }
  assertEqual(code, "oauth_not_configured");
});
