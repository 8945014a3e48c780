// The only module that touches the DOM: binds events to app actions and renders the state.
// User text is always inserted with textContent.
function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

export function bind(app) {
  const upload = byTestId("embed-upload");
  upload.addEventListener("change", async () => {
    for (const file of upload.files) await app.embedFile(file);
    upload.value = "";
  });
}

export function render(state) {
  const status = byTestId("status");
  status.dataset.state = state.status;
  status.textContent = state.message;
  byTestId("backend").textContent = state.backend ? state.backend.detail : "choosing…";
  byTestId("backend").dataset.backend = state.backend ? state.backend.name : "";
  byTestId("embed-upload").disabled = state.status !== "ready";
  const output = byTestId("embedding");
  if (state.embedding) {
    const { name, values } = state.embedding;
    const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
    output.textContent = `${name}: ${values.length} numbers, length ${norm.toFixed(2)}`;
    output.dataset.name = name;
    output.dataset.count = String(state.embedding.sequence);
    output.dataset.vector = JSON.stringify(values.map((value) => Number(value.toPrecision(7))));
  }
}
