// Hostile strings: what a provider's users can type and storage layers tend to refuse (NUL, lone surrogates,
// control characters, bidi overrides, megabyte strings, quotes). The generator is the one every simulator
// shares (tools/lib/hostile.ts); Dotloop's strings are its string kinds.

import { HOSTILE_STRING_KINDS, type HostileStringKind, hostileString } from "../lib/hostile";

export const HOSTILE_KINDS = HOSTILE_STRING_KINDS;
export type HostileKind = HostileStringKind;
export { hostileString };
