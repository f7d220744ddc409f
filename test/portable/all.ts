// Every spec, in one list, so each runtime registers exactly the same tests.
import "./signatures.spec";
import "./crypto.spec";
