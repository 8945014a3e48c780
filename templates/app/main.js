// Boot: read the project embedded in the page, start the app, connect the page.
import { App } from "./app.js";
import { readEmbeddedAssets } from "./embedded.js";
import { bindPage } from "./ui/page.js";

function storeName() {
  // One store per page location: several demos on one site (one origin) keep their samples apart.
  const path = location.pathname.replace(/index\.html$/, "");
  return `teachkit:${path}`;
}

async function main() {
  const project = JSON.parse(document.getElementById("teachkit-project").textContent);
  const requestedBackend = new URLSearchParams(location.search).get("backend");
  const embedded = readEmbeddedAssets(document);
  const app = new App(project, {
    requestedBackend,
    wasmUrls: embedded?.wasmUrls ?? {},
    model: embedded?.model ?? "model/model.json",
    storeName: storeName(),
  });
  app.subscribe(bindPage(app));
  window.teachkit = app; // for host pages and tests
  await app.start();
}

main();
