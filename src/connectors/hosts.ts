import type { ServiceHost } from "./types";

/**
 * The URL a request is sent to, for a provider whose services live on hosts of their own. Requests are built
 * under the provider's logical base URL with a path prefix per service (`<base>/arrakis/api/v1/...`), so paging,
 * rate contexts and origin checks see one origin; only at the last moment does each go to the host serving its
 * prefix (`https://arrakis.example/api/v1/...`). A connection pointed at another base URL (a simulator, a
 * staging environment, an egress) sends its paths there as they are.
 */
export function routeToHost(hosts: ServiceHost[] | undefined, logicalBase: string, url: string): string {
  if (!hosts || hosts.length === 0) return url;
  let u: URL;
  let base: URL;
  try {
    u = new URL(url);
    base = new URL(logicalBase);
  } catch {
    return url;
  }
  if (u.origin !== base.origin) return url;
  const basePath = base.pathname.replace(/\/$/, "");
  if (!u.pathname.startsWith(`${basePath}/`)) return url;
  const rest = u.pathname.slice(basePath.length);
  for (const host of hosts) {
    if (rest !== host.prefix && !rest.startsWith(`${host.prefix}/`)) continue;
    const target = new URL(host.origin);
    target.pathname = `${target.pathname.replace(/\/$/, "")}${rest.slice(host.prefix.length)}`;
    target.search = u.search;
    return target.toString();
  }
  // A path no service claims stays on the logical base, which resolves nowhere: it fails as a request.
  return url;
}
