// Node's module hooks for the unit tests. TF.js publishes its ES modules for bundlers: inside
// node_modules their relative imports name no file extension ("./engine"), which esbuild accepts and
// Node refuses. Here such an import is retried with ".js" (or "/index.js"), as esbuild resolves it,
// and only for files under node_modules: the app's own imports must stay valid ES modules.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const fromPackage = context.parentURL?.includes("/node_modules/");
    const missing = error.code === "ERR_MODULE_NOT_FOUND" || error.code === "ERR_UNSUPPORTED_DIR_IMPORT";
    if (!fromPackage || !missing || !specifier.startsWith(".")) throw error;
    for (const suffix of [".js", "/index.js"]) {
      try {
        return await nextResolve(specifier + suffix, context);
      } catch {
        // the next suffix, then the original error
      }
    }
    throw error;
  }
}
