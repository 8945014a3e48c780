// Boot: read the project embedded in the page, start the app, connect the UI.
import { App } from "./app.js";
import { bind, render } from "./ui/page.js";

function readProject() {
  return JSON.parse(document.getElementById("teachkit-project").textContent);
}

async function main() {
  const project = readProject();
  const requestedBackend = new URLSearchParams(location.search).get("backend");
  const app = new App(project, { requestedBackend, wasmUrls: window.teachkitWasmUrls ?? {} });
  app.subscribe(render);
  bind(app);
  window.teachkit = app; // automation hook for tests and host pages
  await app.start();
}

main();
