// The reference for the first prediction: fetching model.json and its weight shards with nothing
// else (and how long a WebGL2 context takes to make).
async () => {
  const started = performance.now();
  const manifest = await (await fetch("model/model.json")).json();
  const paths = manifest.weightsManifest.flatMap((group) => group.paths);
  await Promise.all(paths.map(async (path) => (await fetch(`model/${path}`)).arrayBuffer()));
  const fetched = performance.now() - started;
  const glStarted = performance.now();
  const gl = document.createElement("canvas").getContext("webgl2");
  return { fetched, webgl2ContextMs: performance.now() - glStarted, webgl2: Boolean(gl) };
};
