// Hostile strings: what a provider's users can type and storage layers tend to refuse (NUL,
// lone surrogates, control characters, bidi overrides, megabyte strings). A hostile string is
// the provider's data, not a transport fault: it is the same on every fetch and in the truth.

export const HOSTILE_KINDS = ["nul", "surrogate", "control", "bidi", "emoji", "long", "quote"] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

let longTail: string | undefined;
/** 200,000 × "Ωx": 600 KB of UTF-8, built once. */
function long(): string {
  longTail ??= "Ωx".repeat(200_000);
  return longTail;
}

/** The hostile string of a kind, around the field's own value so records stay distinguishable. */
export function hostileString(kind: HostileKind, original: string): string {
  switch (kind) {
    case "nul":
      return `${original}\u0000nul`;
    case "surrogate":
      return `${original}\udc00\ud800x`;
    case "control":
      return `${original}\u0001\u0008\u000b\u001b[31m\u007f\u0085\u2028\u2029`;
    case "bidi":
      return `\u202e${original}\u202c`;
    case "emoji":
      return `🏡 ${original} 👨‍👩‍👧‍👦 Zoë`;
    case "long":
      return `${original} ${long()}`;
    case "quote":
      return `${original}'); DROP TABLE loops;-- "\\`;
  }
}
