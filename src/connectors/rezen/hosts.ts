import type { ServiceHost } from "../types";

/**
 * reZEN is several Spring services, one host each. Requests are built under one logical base URL with each
 * service at its own path prefix (`<base>/arrakis/api/v1`, `<base>/yenta/api/v1`), and the engine sends each to
 * its service's host (REZEN_SERVICE_HOSTS); rate budgets are per prefix, so per host. A connection pointed at
 * another base URL (the simulator, which serves the prefixes on one port) gets the paths as they are.
 */
export const REZEN_LOGICAL_BASE_URL = "https://rezen.invalid";

/** Production hosts of the services the connector calls (the play and team environments are other hosts). */
export const REZEN_SERVICE_HOSTS: ServiceHost[] = [
  { prefix: "/arrakis", origin: "https://arrakis.therealbrokerage.com" },
  { prefix: "/yenta", origin: "https://yenta.therealbrokerage.com" },
  { prefix: "/keymaker", origin: "https://keymaker.therealbrokerage.com" },
  { prefix: "/sherlock", origin: "https://sherlock.therealbrokerage.com" },
  { prefix: "/dropbox", origin: "https://dropbox.therealbrokerage.com" },
];
export const REZEN_HOSTS = {
  /** Transactions, listings, revenue share. */
  arrakis: "/arrakis/api/v1",
  /** Agents, teams, network. */
  yenta: "/yenta/api/v1",
} as const;

export const arrakis = (path: string) => `${REZEN_HOSTS.arrakis}${path}`;
export const yenta = (path: string) => `${REZEN_HOSTS.yenta}${path}`;
