// Boot: read the project embedded in the page, start the app, connect the page.
import { App } from "./app.js";
import { readEmbeddedAssets } from "./embedded.js";
import { bindPage } from "./ui/page.js";

function storeName() {
  // One store per page location: several demos on one site (one origin) keep their samples apart.
  const path = location.pathname.replace(/index\.html$/, "");
  return `teachkit:${path}`;
}

// Two workers embed two frames at once; more would only compete for the cores the page needs.
function workerCount(parameters) {
  const requested = parameters.get("workers");
  if (requested !== null && /^[0-4]$/.test(requested)) return Number(requested);
  return Math.min(2, navigator.hardwareConcurrency || 1);
}

async function main() {
  const project = JSON.parse(document.getElementById("teachkit-project").textContent);
  const parameters = new URLSearchParams(location.search);
  const embedded = readEmbeddedAssets(document);
  const app = new App(project, {
    requestedBackend: parameters.get("backend"),
    workers: workerCount(parameters),
    wasmUrls: embedded?.wasmUrls ?? {},
    wasmBinaries: embedded?.wasmBinaries ?? {},
    model: embedded?.model ?? new URL("model/model.json", document.baseURI).href,
    workerUrl: embedded ? embedded.workerUrl : new URL("embed-worker.js", document.baseURI).href,
    storeName: storeName(),
  });
  app.subscribe(bindPage(app));
  window.teachkit = app; // for host pages and tests
  await app.start();
}

main();
