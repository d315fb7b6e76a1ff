/** Types of build.mjs, for the tests that build and measure the widget. */
export declare const WIDGET_PATH: string;
export declare const GZIP_BUDGET_BYTES: number;
export declare const TARGETS: string[];
export declare function gzippedSize(bytes: Uint8Array): number;
export declare function buildWidget(options?: { outfile?: string }): Promise<{ path: string; bytes: number; gzipped: number }>;
