// The page's first script on LiteRT.js: starts fetching and compiling its files (litert_files.js)
// while the rest of the page still loads.
import { liteRtFiles } from "./runtime/litert_files.js";

liteRtFiles();
