import type { TestProject } from "vitest/node";
import { startTestServices } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    wsProxy: string;
  }
}

export default async function setup(project: TestProject) {
  const services = await startTestServices();
  project.provide("databaseUrl", services.databaseUrl);
  project.provide("wsProxy", services.wsProxy);
  process.env.TEST_DATABASE_URL = services.databaseUrl;
  return () => services.stop();
}
