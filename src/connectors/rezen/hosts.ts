/**
 * reZEN is several Spring services, one host each. A connection has one base URL, under which each service
 * sits at its own path prefix (`<base>/arrakis/api/v1`, `<base>/yenta/api/v1`): the simulator serves them
 * that way, and a production connection points its base URL at an egress that maps each prefix to its host
 * (`/arrakis` → https://arrakis.therealbrokerage.com, ...). Rate budgets are per prefix, so per host.
 */
export const REZEN_HOSTS = {
  /** Transactions, listings, revenue share. */
  arrakis: "/arrakis/api/v1",
  /** Agents, teams, network. */
  yenta: "/yenta/api/v1",
} as const;

export const arrakis = (path: string) => `${REZEN_HOSTS.arrakis}${path}`;
export const yenta = (path: string) => `${REZEN_HOSTS.yenta}${path}`;
