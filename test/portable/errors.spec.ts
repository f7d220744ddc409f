import { AppError, errorBody } from "../../src/core/errors";
import { assertDeepEqual, assertEqual, assertTrue, test } from "./harness";

test("errors: AppError carries status and code", () => {
  const e = new AppError(422, "invalid_payload", "body failed validation");
  assertTrue(e instanceof Error);
  assertTrue(e instanceof AppError);
  assertEqual(e.status, 422);
  assertEqual(e.code, "invalid_payload");
  assertEqual(e.message, "body failed validation");
  assertEqual(e.name, "AppError");
});

test("errors: errorBody shape", () => {
  assertDeepEqual(errorBody("not_found", "no such connection"), {
    error: { code: "not_found", message: "no such connection" },
  });
});
