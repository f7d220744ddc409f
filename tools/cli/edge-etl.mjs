#!/usr/bin/env node
// The `edge-etl` bin: runs the TypeScript CLI through tsx's loader (Node >= 22.12).
import { register } from "tsx/esm/api";

register();
const { run } = await import("./main.ts");
await run(process.argv.slice(2));
