/**
 * TF.js LayersModel folders on disk without tfjs-node: `model.json` (format 'layers-model', the
 * Keras topology and a weights manifest) plus the binary weight shards it names, as written by
 * `model.save('file://…')` or `tensorflowjs_converter --output_format=tfjs_layers_model`.
 *
 * Reading validates before tfjs sees anything, so a wrong folder gives a clear message (missing
 * model.json, a GraphModel, a missing or short shard…). Loading goes through `tf.loadLayersModel`
 * with an IOHandler over those artifacts; saving writes the same layout (one shard, `weights.bin`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Bytes per element of the dtypes a weights manifest may use (tf.io's DTYPE_VALUE_SIZE_MAP). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

type ManifestGroup = tf.io.WeightsManifestConfig[number];

export interface LayersModelFolder {
  /** The folder holding model.json and the shards. */
  dir: string;
  modelJsonPath: string;
  /** sha256 of the model.json bytes (hex), identifies the backbone. */
  sha256: string;
  /** What `tf.loadLayersModel` needs: topology, weight specs and all shards concatenated. */
  artifacts: tf.io.ModelArtifacts;
}

/** A `model.json` path from a folder or a file path (no checks beyond existence). */
function modelJsonPathOf(p: string): string {
  if (!fs.existsSync(p)) throw new Error(`backbone: ${p} does not exist`);
  return fs.statSync(p).isDirectory() ? path.join(p, 'model.json') : p;
}

interface ModelJson {
  format?: unknown;
  modelTopology?: unknown;
  weightsManifest?: unknown;
}

/** Parses and checks model.json (no weight bytes read). */
function readModelJson(p: string): { jsonPath: string; bytes: Buffer; json: ModelJson; groups: ManifestGroup[] } {
  const jsonPath = modelJsonPathOf(p);
  if (!fs.existsSync(jsonPath)) {
    throw new Error(`backbone: no model.json in ${path.dirname(jsonPath)} (a TF.js LayersModel folder holds model.json and its weight files)`);
  }
  const bytes = fs.readFileSync(jsonPath);
  let json: ModelJson;
  try {
    json = JSON.parse(bytes.toString('utf8')) as ModelJson;
  } catch (e) {
    throw new Error(`backbone: ${jsonPath} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`backbone: ${jsonPath} is not a TF.js model.json object`);
  const topology = json.modelTopology as { node?: unknown; class_name?: unknown; model_config?: unknown } | undefined;
  if (json.format === 'graph-model' || (topology && Array.isArray(topology.node))) {
    throw new Error(
      `backbone: ${jsonPath} is a TF.js GraphModel; only LayersModels (Keras layers) can take adapters — convert with tensorflowjs_converter --output_format=tfjs_layers_model`,
    );
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new Error(`backbone: ${jsonPath} has format '${String(json.format)}', expected 'layers-model'`);
  }
  if (!topology || typeof topology !== 'object' || (topology.class_name === undefined && topology.model_config === undefined)) {
    throw new Error(`backbone: ${jsonPath} has no Keras modelTopology (not a TF.js LayersModel)`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new Error(`backbone: ${jsonPath} has no weightsManifest`);
  const groups = json.weightsManifest as ManifestGroup[];
  for (const g of groups) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new Error(`backbone: ${jsonPath} has a malformed weightsManifest entry`);
  }
  return { jsonPath, bytes, json, groups };
}

/** Bytes a weights manifest entry occupies. */
function specBytes(s: tf.io.WeightsManifestEntry, jsonPath: string): number {
  const dtype = s.quantization?.dtype ?? s.dtype;
  const per = DTYPE_BYTES[dtype];
  if (per === undefined) throw new Error(`backbone: ${jsonPath}: weight '${s.name}' has unsupported dtype '${dtype}'`);
  if (!Array.isArray(s.shape) || s.shape.some((d) => !(Number.isInteger(d) && d >= 0))) throw new Error(`backbone: ${jsonPath}: weight '${s.name}' has a bad shape`);
  return per * s.shape.reduce((a, b) => a * b, 1);
}

/** Resolves a manifest path inside the folder, refusing paths that leave it. */
function shardPath(dir: string, rel: unknown, jsonPath: string): string {
  if (typeof rel !== 'string' || path.isAbsolute(rel) || path.relative(dir, path.resolve(dir, rel)).startsWith('..')) {
    throw new Error(`backbone: ${jsonPath} names weight file '${String(rel)}' outside its folder`);
  }
  const file = path.resolve(dir, rel);
  if (!fs.existsSync(file)) throw new Error(`backbone: weight file ${file} named in ${jsonPath} is missing`);
  return file;
}

/** Checks that a group's shards hold exactly the bytes its weights need. */
function checkGroupBytes(g: ManifestGroup, available: number, jsonPath: string): void {
  const expected = g.weights.reduce((a, s) => a + specBytes(s, jsonPath), 0);
  if (available !== expected) {
    throw new Error(
      `backbone: weight files ${g.paths.join(', ')} hold ${available} bytes but ${jsonPath} describes ${expected} (${available < expected ? 'truncated or short file' : 'wrong files'})`,
    );
  }
}

/**
 * Validates a LayersModel folder (or its model.json) without reading the weights: format, shards
 * present and of the right size. Returns the input shape when the topology states it.
 */
export function inspectLayersModelFolder(p: string): { jsonPath: string; inputShape: number[] | null } {
  const { jsonPath, json, groups } = readModelJson(p);
  const dir = path.dirname(jsonPath);
  for (const g of groups) checkGroupBytes(g, g.paths.reduce((a, rel) => a + fs.statSync(shardPath(dir, rel, jsonPath)).size, 0), jsonPath);
  return { jsonPath, inputShape: topologyInputShape(json) };
}

/**
 * Reads a LayersModel folder (or its model.json path), checking the shards exist, stay inside the
 * folder and hold exactly the bytes the manifest describes.
 */
export function readLayersModelFolder(p: string): LayersModelFolder {
  const { jsonPath, bytes, json, groups } = readModelJson(p);
  const dir = path.dirname(jsonPath);
  const buffers: Buffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const g of groups) {
    const shards = g.paths.map((rel) => fs.readFileSync(shardPath(dir, rel, jsonPath)));
    checkGroupBytes(g, shards.reduce((a, b) => a + b.byteLength, 0), jsonPath);
    buffers.push(...shards);
    weightSpecs.push(...g.weights);
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return {
    dir,
    modelJsonPath: jsonPath,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    artifacts: { modelTopology: json.modelTopology as object, weightSpecs, weightData, format: 'layers-model' },
  };
}

/** Input shape [dims without batch] from the topology alone (null when it cannot be found cheaply). */
function topologyInputShape(json: ModelJson): number[] | null {
  const topo = json.modelTopology as { model_config?: unknown; config?: unknown };
  const model = (topo.model_config ?? topo) as { class_name?: string; config?: { layers?: unknown[]; input_layers?: unknown[] } | unknown[] };
  const cfg = model.config;
  const layers = (Array.isArray(cfg) ? cfg : cfg?.layers) as { class_name?: string; config?: Record<string, unknown> }[] | undefined;
  if (!Array.isArray(layers) || layers.length === 0) return null;
  let first = layers[0];
  const inputs = Array.isArray(cfg) ? undefined : cfg?.input_layers;
  if (Array.isArray(inputs) && Array.isArray(inputs[0])) {
    first = layers.find((l) => l.config?.name === (inputs[0] as unknown[])[0]) ?? first;
  }
  const shape = (first.config?.batch_input_shape ?? first.config?.batchInputShape) as (number | null)[] | undefined;
  return Array.isArray(shape) && shape.slice(1).every((d) => typeof d === 'number') ? (shape.slice(1) as number[]) : null;
}

/**
 * Loads a LayersModel folder (or model.json path) into tfjs.
 * @returns the model (caller disposes) and the folder's description
 */
export async function loadLayersModelFromDisk(p: string): Promise<{ model: tf.LayersModel; folder: LayersModelFolder }> {
  const folder = readLayersModelFolder(p);
  const handler: tf.io.IOHandler = { load: async () => folder.artifacts };
  try {
    return { model: await tf.loadLayersModel(handler), folder };
  } catch (e) {
    throw new Error(`backbone: tfjs could not build the model in ${folder.modelJsonPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Builds a LayersModel from artifacts already in memory (an embedded backbone). */
export async function loadLayersModelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel({ load: async () => artifacts });
}

/** The model's topology and weights, as `model.save` would write them (nothing touches disk). */
async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a || !a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('tfjs returned no model artifacts');
  return a;
}

/**
 * Writes a LayersModel folder: `dir/model.json` + `dir/weights.bin` (the layout of tfjs-node's
 * `file://` handler), readable by {@link loadLayersModelFromDisk} and by TF.js itself.
 */
export async function saveLayersModelToDisk(model: tf.LayersModel, dir: string): Promise<void> {
  const a = await modelArtifacts(model);
  const weights = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.CompositeArrayBuffer.join(a.weightData!);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights));
  const modelJson = {
    format: 'layers-model',
    generatedBy: a.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
}
