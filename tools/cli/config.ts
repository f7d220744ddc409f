import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError, EXIT, usageError } from "./errors";

export type Target = { url: string; token: string };

type Sources = {
  flags: { url?: string; token?: string; config?: string };
  env: Record<string, string | undefined>;
};

/** `$XDG_CONFIG_HOME/edge-etl.json`, else `~/.config/edge-etl.json`. */
export function defaultConfigPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "edge-etl.json");
}

function readConfigFile(file: string, explicit: boolean): { url?: string; token?: string } {
  if (!existsSync(file)) {
    if (explicit) throw usageError(`config file ${file} does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // Never echo the file's text: it holds the token.
    throw usageError(`config file ${file} is not valid JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw usageError(`config file ${file} must hold an object {"url", "token"}`);
  }
  const { url, token } = parsed as Record<string, unknown>;
  if ((url !== undefined && typeof url !== "string") || (token !== undefined && typeof token !== "string")) {
    throw usageError(`config file ${file}: "url" and "token" must be strings`);
  }
  return { url, token };
}

/** Where to send requests and with which token: flags, then the environment, then the config file. */
export function resolveTarget({ flags, env }: Sources): Target {
  const file = readConfigFile(flags.config ?? defaultConfigPath(env), flags.config !== undefined);
  const url = flags.url ?? env.EDGE_ETL_URL ?? file.url;
  const token = flags.token ?? env.EDGE_ETL_TOKEN ?? file.token;
  if (!url) throw usageError('no API URL: set EDGE_ETL_URL, pass --url, or put "url" in the config file');
  if (!token) {
    throw new CliError(
      EXIT.auth,
      'no token: set EDGE_ETL_TOKEN, pass --token, or put "token" in the config file',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError("the API URL is not a valid URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw usageError("the API URL must be http or https");
  }
  return { url: url.replace(/\/+$/, ""), token };
}
