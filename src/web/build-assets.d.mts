export declare const ASSETS_DIR: string;

export interface AssetManifest {
  /** "app.js" and "app.css" to their hashed file names. */
  files: Record<string, string>;
  /** Chunks the entry imports statically, preloaded by the HTML shell. */
  preload: string[];
  /** Each file's size gzipped, in bytes: what a browser downloads. */
  gzip_bytes: Record<string, number>;
}

export declare function buildAssets(options?: {
  outdir?: string;
  quiet?: boolean;
}): Promise<AssetManifest>;
