import type { TestProject } from "vitest/node";
import { startSimulator } from "../../tools/simulator/main";
import { startTestServices } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    ownerDatabaseUrl: string;
    wsProxy: string;
    simulatorUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const services = await startTestServices();
  project.provide("databaseUrl", services.databaseUrl);
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
