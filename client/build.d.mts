/** Types of build.mjs, for the tests that build and measure the bundles. */
export interface BuildResult {
  path: string;
  bytes: number;
  gzipped: number;
}
export declare const WIDGET_PATH: string;
export declare const ADMIN_PATH: string;
export declare const COUNT_PATH: string;
export declare const PART_PATHS: { own: string };
export declare const GZIP_BUDGET_BYTES: number;
export declare const COUNT_GZIP_BUDGET_BYTES: number;
export declare const TARGETS: string[];
export declare function gzippedSize(bytes: Uint8Array): number;
export declare function buildWidget(options?: { outfile?: string }): Promise<BuildResult>;
export declare function buildAdmin(options?: { outfile?: string }): Promise<BuildResult>;
export declare function buildCount(options?: { outfile?: string }): Promise<BuildResult>;
export declare function buildParts(): Promise<BuildResult[]>;
export declare function buildAll(): Promise<{
  widget: BuildResult;
  admin: BuildResult;
  count: BuildResult;
  'widget-own': BuildResult;
}>;
