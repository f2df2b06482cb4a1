/** Window/level for DICOM modality values, the PS3.3 C.11.2.1.2 LINEAR function the main process uses. */
export interface WindowLevel {
  center: number;
  width: number;
}

export interface WindowPreset extends WindowLevel {
  id: string;
  label: string;
}

/** Common CT presets (Hounsfield units). "default" comes from the file. */
export const WINDOW_PRESETS: WindowPreset[] = [
  { id: 'lung', label: 'Lung', center: -600, width: 1500 },
  { id: 'bone', label: 'Bone', center: 400, width: 1800 },
  { id: 'soft', label: 'Soft tissue', center: 40, width: 400 },
  { id: 'brain', label: 'Brain', center: 40, width: 80 },
];

/** Writes grey RGBA pixels for `values` (HW float32) under the window into `out` (length 4·HW). */
export function renderWindow(values: Float32Array, win: WindowLevel, out: Uint8ClampedArray): void {
  const c = win.center;
  const w = Math.max(1, win.width);
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  const scale = 255 / (w - 1 || 1);
  const offset = (0.5 - (c - 0.5) / (w - 1 || 1)) * 255;
  for (let i = 0, j = 0; i < values.length; i++, j += 4) {
    const x = values[i];
    const y = x <= lo ? 0 : x > hi ? 255 : x * scale + offset;
    out[j] = y;
    out[j + 1] = y;
    out[j + 2] = y;
    out[j + 3] = 255;
  }
}

export function valueRange(values: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 1 };
}

/** Little-endian float32 from the wire, whatever this machine's byte order. */
export function float32LE(buffer: ArrayBuffer): Float32Array {
  const n = Math.floor(buffer.byteLength / 4);
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (littleEndian) return new Float32Array(buffer, 0, n);
  const view = new DataView(buffer);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
