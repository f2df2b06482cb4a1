export type ImageErrorCode =
  | 'unreadable'
  | 'truncated'
  | 'not-an-image'
  | 'too-many-pixels'
  | 'unsupported-transfer-syntax'
  | 'no-pixel-data'
  | 'unsupported-image';

export class ImageDecodeError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.name = 'ImageDecodeError';
    this.code = code;
  }
}

/** Text of anything thrown: dicom-parser throws strings and `{ exception, dataSet }` objects, WASM throws numbers. */
export function describeThrown(e: unknown): string {
  // dicom-parser recurses into sequences: thousands of nested ones exhaust the stack.
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'sequences nested too deeply to read';
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return describeThrown((e as { exception: unknown }).exception);
  return String(e);
}

export const DEFAULT_MAX_PIXELS = 100_000_000;
