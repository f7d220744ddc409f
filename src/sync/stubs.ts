import type { Env } from "../env";

/** A fresh stub per call: a stub that threw may be broken, and stubs are cheap. */
export function accountStub(env: Env, accountId: string) {
  return env.ACCOUNT_SYNC.get(env.ACCOUNT_SYNC.idFromName(accountId));
}
