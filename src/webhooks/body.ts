import { concatBytes } from "../core/encoding";
import { AppError } from "../core/errors";

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/** Rejects by the declared length first, then counts the bytes actually read: the header can lie or be absent. */
export function checkDeclaredLength(header: string | null, maxBytes = MAX_WEBHOOK_BYTES): void {
  if (header === null) return;
  const declared = Number(header);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
}

export async function readLimitedBody(request: Request, maxBytes = MAX_WEBHOOK_BYTES): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(413, "payload_too_large", `webhook bodies are limited to ${maxBytes} bytes`);
}
