import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

export type { Browser, Page } from "puppeteer-core";

/** Debian's chromium (`apt-get install -y chromium`; `.ci/run` installs it when missing), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p): p is string => typeof p === "string" && existsSync(p));
  if (!found) throw new Error("no chromium found: apt-get install -y chromium, or set CHROMIUM_PATH");
  return found;
}

/** Headless Chromium driven through puppeteer-core; nothing is downloaded. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}
