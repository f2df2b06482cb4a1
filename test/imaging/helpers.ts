import assert from 'node:assert/strict';
import { ImageDecodeError, type ImageErrorCode } from '../../src-main/imaging/index.ts';

/** Awaits a rejection and checks it is an ImageDecodeError with the given code (and message pattern). */
export async function rejects(p: Promise<unknown>, code: ImageErrorCode, message?: RegExp): Promise<ImageDecodeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ImageDecodeError, `expected ImageDecodeError, got ${String(e)}`);
    assert.equal(e.code, code, `code for: ${e.message}`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected rejection with ${code}`);
}
