// Embeds the classifier and drives it from the course page. The classifier's address comes from
// ?site=… (default: the folder "classifier/" next to this page); its project must list this
// page's origin in [embed] allowed_origins.
const site = new URL(new URLSearchParams(location.search).get("site") ?? "classifier/", location.href);
const frame = document.getElementById("classifier");
frame.src = site.href;

const status = document.querySelector('[data-testid="host-status"]');
const classes = document.querySelector('[data-testid="host-classes"]');
const trainButton = document.querySelector('[data-testid="host-train"]');
const epoch = document.querySelector('[data-testid="host-epoch"]');
const predictInput = document.querySelector('[data-testid="host-predict"]');
const prediction = document.querySelector('[data-testid="host-prediction"]');
const confidences = document.querySelector('[data-testid="host-confidences"]');

function say(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

function showPrediction(result) {
  prediction.dataset.count = String(Number(prediction.dataset.count) + 1);
  prediction.dataset.label = result.label;
  prediction.textContent = `It looks like ${result.label} (${Math.round(result.confidence * 100)} % sure).`;
  confidences.replaceChildren(
    ...Object.entries(result.confidences).map(([name, p]) => {
      const item = document.createElement("li");
      const bar = document.createElement("meter");
      bar.value = p;
      item.append(`${name} `, bar, ` ${Math.round(p * 100)} %`);
      return item;
    }),
  );
}

function classControls(tk, names) {
  classes.replaceChildren(
    ...names.map((name) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "file";
      input.accept = "image/*";
      input.multiple = true;
      input.dataset.testid = "host-images";
      input.dataset.className = name;
      input.addEventListener("change", async () => {
        const { added, problems } = await tk.addImages(name, input.files);
        say(`Sent ${added} pictures to "${name}". ${problems.join(" ")}`, "ready");
        input.value = "";
      });
      label.append(`Pictures of ${name} `, input);
      return label;
    }),
  );
}

try {
  const { connect } = await import(new URL("embed.js", site).href);
  const tk = await connect(frame);
  await tk.ready;
  classControls(
    tk,
    (await tk.classes()).map((item) => item.name),
  );
  tk.on("prediction", showPrediction);
  tk.on("epoch", (entry) => {
    epoch.dataset.epochs = String(entry.epoch);
    epoch.textContent = `epoch ${entry.epoch}: accuracy ${Math.round(entry.accuracy * 100)} %`;
  });
  tk.on("trained", () => say("Trained: now ask it about a picture, or use the camera.", "trained"));
  trainButton.addEventListener("click", () =>
    tk.train().catch((error) => say(error.message, "error")),
  );
  predictInput.addEventListener("change", async () => {
    const [file] = predictInput.files;
    predictInput.value = "";
    if (file) await tk.predict(file).catch((error) => say(error.message, "error"));
  });
  trainButton.disabled = false;
  predictInput.disabled = false;
  say(`Connected to "${tk.title}".`, "ready");
} catch (error) {
  say(`The classifier could not be reached: ${error.message}`, "error");
}
