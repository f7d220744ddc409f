export * from "./alerts";
export * from "./dotloop-core";
export * from "./fub-core";
export * from "./pipeline";
export * from "./sync";
export * from "./tenancy";
export * from "./unified";
export * from "./webhooks";
