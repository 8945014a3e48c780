// The base model on LiteRT.js in a worker. A classic worker, not a module: LiteRT.js loads its
// Emscripten glue with importScripts. Speaks tfjs_worker.js's messages (runtime/model_worker.js),
// so the pool in embedder.js runs either.
import { LiteRtModel } from "./runtime/litert_model.js";
import { serveModel } from "./runtime/model_worker.js";

serveModel(({ modelSource, inputSize, runtime }) => LiteRtModel.load(modelSource, inputSize, runtime));
