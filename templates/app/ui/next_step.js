// What the visitor should do next, derived from the state alone: the page's headline, the
// training status and the "Try it" text all read it, so they never disagree.

function emptyClassNames(dataset) {
  const counts = dataset.counts();
  return dataset.classes.filter((item) => counts[item.id] === 0).map((item) => `"${item.name}"`);
}

// {step, text}: step is loading | error | collect | fill | train | training | retrain | try.
export function nextStep(state) {
  const { dataset, training, head, headRecord } = state;
  if (state.status === "loading") return { step: "loading", text: "Loading the model…" };
  if (state.status !== "ready") return { step: "error", text: "The model could not be loaded." };
  if (training.state === "training")
    return { step: "training", text: `Training: epoch ${training.epoch} of ${training.epochs}…` };
  if (!head) {
    if (!dataset.samples.length) return { step: "collect", text: "Add examples to each class." };
    const empty = emptyClassNames(dataset);
    if (empty.length) return { step: "fill", text: `Add examples to ${empty.join(", ")}.` };
    const again = training.stale ? "The classes changed: train again." : "Ready: train the model.";
    return { step: "train", text: again };
  }
  const trainedOn = headRecord?.sampleCount;
  if (trainedOn !== undefined && trainedOn !== dataset.samples.length)
    return { step: "retrain", text: "The examples changed since training: train again to include them." };
  return { step: "try", text: "Trained: try it with the camera or an image." };
}
