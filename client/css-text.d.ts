/** build.mjs bundles .css files as their minified text. */
declare module '*.css' {
  const css: string;
  export default css;
}
