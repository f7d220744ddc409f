export * from "./fub";
export * from "./pipeline";
export * from "./tenancy";
