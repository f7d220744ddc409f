// Every spec, in one list, so each runtime registers exactly the same tests.
import "./signatures.spec";
import "./crypto.spec";
import "./backoff.spec";
import "./breaker.spec";
import "./rate-budget.spec";
import "./errors.spec";
import "./cursor.spec";
import "./connectors.spec";
import "./shared-commit.spec";
import "./storable.spec";
import "./exact-json.spec";
import "./oauth-state.spec";
import "./log.spec";
