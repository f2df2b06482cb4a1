import type { ImageDetailT } from '../../src-main/service/contract.ts';
import type { Client } from './client.ts';
import { float32LE } from '../components/windowLevel.ts';

export interface LoadedImage {
  detail: ImageDetailT;
  /** A blob: URL of the decoded preview, so showing it is instant. */
  previewUrl: string;
  /** DICOM grayscale: modality values (HW) for client-side window/level. */
  modality: Float32Array | null;
}

async function fetchAsset(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url} (HTTP ${response.status})`);
  return response;
}

/**
 * Image details and decoded previews of one project, fetched ahead of time for the next images in
 * the queue. Details are small and kept; previews are blob URLs, kept for the most recent few.
 */
export class ImageCache {
  private details = new Map<number, Promise<ImageDetailT>>();
  private loaded = new Map<number, Promise<LoadedImage>>();
  private ready = new Map<number, LoadedImage>();
  private order: number[] = [];
  private disposed = false;

  constructor(
    private readonly client: Client,
    private readonly projectId: string,
    private readonly capacity = 24,
  ) {}

  detail(imageId: number): Promise<ImageDetailT> {
    let p = this.details.get(imageId);
    if (!p) {
      p = this.client['image.detail']({ projectId: this.projectId, imageId });
      p.catch(() => this.details.delete(imageId));
      this.details.set(imageId, p);
    }
    return p;
  }

  /** The loaded image if it is ready now (no waiting). */
  peek(imageId: number): LoadedImage | undefined {
    return this.ready.get(imageId);
  }

  load(imageId: number): Promise<LoadedImage> {
    let p = this.loaded.get(imageId);
    if (p) {
      this.touch(imageId);
      return p;
    }
    p = (async () => {
      const detail = await this.detail(imageId);
      const [blob, modality] = await Promise.all([
        fetchAsset(detail.previewAsset).then((r) => r.blob()),
        detail.modalityAsset ? fetchAsset(detail.modalityAsset).then(async (r) => float32LE(await r.arrayBuffer())) : Promise.resolve(null),
      ]);
      const previewUrl = URL.createObjectURL(blob);
      const img = new Image();
      img.src = previewUrl;
      await img.decode().catch(() => undefined);
      const image: LoadedImage = {
        detail,
        previewUrl,
        modality: modality && modality.length === detail.width * detail.height ? modality : null,
      };
      if (this.disposed) URL.revokeObjectURL(previewUrl);
      else this.ready.set(imageId, image);
      return image;
    })();
    p.catch(() => this.loaded.delete(imageId));
    this.loaded.set(imageId, p);
    this.touch(imageId);
    return p;
  }

  prefetch(imageIds: number[]): void {
    for (const id of imageIds) this.load(id).catch(() => undefined);
  }

  /** Forget one image (e.g. its label changed) so the next load reads it afresh. */
  forget(imageId: number): void {
    this.details.delete(imageId);
    const ready = this.ready.get(imageId);
    if (ready) URL.revokeObjectURL(ready.previewUrl);
    this.ready.delete(imageId);
    this.loaded.delete(imageId);
    this.order = this.order.filter((id) => id !== imageId);
  }

  dispose(): void {
    this.disposed = true;
    for (const image of this.ready.values()) URL.revokeObjectURL(image.previewUrl);
    this.ready.clear();
    this.loaded.clear();
    this.details.clear();
  }

  private touch(imageId: number): void {
    this.order = this.order.filter((id) => id !== imageId);
    this.order.push(imageId);
    while (this.order.length > this.capacity) {
      const evicted = this.order.shift()!;
      const image = this.ready.get(evicted);
      // Revoke later: the viewer may still be showing it for a frame.
      if (image) window.setTimeout(() => URL.revokeObjectURL(image.previewUrl), 5000);
      this.ready.delete(evicted);
      this.loaded.delete(evicted);
    }
  }
}
