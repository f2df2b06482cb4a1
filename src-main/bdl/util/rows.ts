/** Typed arrays holding row-major [N, per] data: images (uint8), features (float32), labels (int32). */
export type RowArray = Uint8Array | Float32Array | Int32Array;

/** The rows of x [N, per] at `rows`, in that order → [rows.length, per], of x's own type. */
export function gatherRows<T extends RowArray>(x: T, per: number, rows: ArrayLike<number>): T {
  const out = new (x.constructor as new (length: number) => T)(rows.length * per);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!(Number.isInteger(r) && r >= 0 && (r + 1) * per <= x.length)) throw new RangeError(`gatherRows: row ${r} is outside [0, ${x.length / per})`);
    (out as Uint8Array).set((x as Uint8Array).subarray(r * per, (r + 1) * per), i * per);
  }
  return out;
}
