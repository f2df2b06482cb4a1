/**
 * Extra float32 arrays in a serialised posterior: methods whose posterior is more than one network
 * (VI's σ, IVON's Hessian, an SGLD bank of samples, ensemble members) append them after the
 * network's weight bytes in `SerializedPosterior.weights`, and record where they are in
 * `json.state.extraArrays`. The network part is unchanged (tfjs reads only the bytes its
 * `weightSpecs` describe), so `Posterior.loadNetwork` still loads the network.
 */
import type { SerializedPosterior } from '../posterior/types.ts';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface ExtraArraySpec {
  name: string;
  shape: number[];
  /** Byte offset in `weights`. */
  offset: number;
}

interface ExtraArraysState {
  /** Bytes of the network's own weights (the extra arrays follow). */
  networkBytes: number;
  arrays: ExtraArraySpec[];
}

const KEY = 'extraArrays';

/** Returns a copy of `s` with `arrays` appended to its weights (and `state` merged into json.state). */
export function appendArrays(s: SerializedPosterior, arrays: readonly NamedArray[], state: Record<string, unknown> = {}): SerializedPosterior {
  const networkBytes = s.weights.byteLength;
  let total = networkBytes;
  const specs: ExtraArraySpec[] = [];
  for (const a of arrays) {
    const size = a.shape.reduce((x, y) => x * y, 1);
    if (size !== a.values.length) throw new Error(`appendArrays: '${a.name}' has ${a.values.length} values for shape [${a.shape.join(', ')}]`);
    specs.push({ name: a.name, shape: [...a.shape], offset: total });
    total += 4 * size;
  }
  const weights = new ArrayBuffer(total);
  const bytes = new Uint8Array(weights);
  bytes.set(new Uint8Array(s.weights), 0);
  arrays.forEach((a, i) => new Float32Array(weights, specs[i].offset, a.values.length).set(a.values));
  const extra: ExtraArraysState = { networkBytes, arrays: specs };
  return { json: { ...s.json, state: { ...(s.json.state ?? {}), ...state, [KEY]: extra } }, weights };
}

/** The arrays appended by {@link appendArrays}, by name (copies). Throws if the buffer is too short. */
export function readArrays(s: SerializedPosterior): Map<string, NamedArray> {
  const extra = s.json.state?.[KEY] as ExtraArraysState | undefined;
  const out = new Map<string, NamedArray>();
  if (!extra) return out;
  for (const spec of extra.arrays) {
    const size = spec.shape.reduce((x, y) => x * y, 1);
    if (spec.offset % 4 !== 0 || spec.offset + 4 * size > s.weights.byteLength) {
      throw new Error(`deserialize: extra array '${spec.name}' lies outside the weight buffer (truncated file?)`);
    }
    out.set(spec.name, { name: spec.name, shape: spec.shape, values: new Float32Array(s.weights.slice(spec.offset, spec.offset + 4 * size)) });
  }
  return out;
}

/** `readArrays(s).get(name)` that throws a clear error when missing. */
export function requireArray(arrays: Map<string, NamedArray>, name: string, what: string): NamedArray {
  const a = arrays.get(name);
  if (!a) throw new Error(`deserialize: ${what} '${name}' is missing from the serialised posterior`);
  return a;
}
