// Which model answers a question about an image, read from the state (the cloud feature's
// `openedModel`, the training feature's `head`, the samples).

// The model that answers: a model opened from the cloud (features/cloud.js) while it is open, which
// brings no example images, or the page's own, with its samples.
export function answeringHead(state) {
  return state.openedModel?.head ?? state.head;
}

// {head, name(classId) → class name, dataset (null for a model from the cloud)}: what predictions
// (features/prediction.js) and a test set (features/test_set.js) are answered by.
export function answeringModel({ openedModel, head, dataset }) {
  if (openedModel)
    return {
      head: openedModel.head,
      name: (classId) => openedModel.names.get(classId) ?? "?",
      dataset: null,
    };
  return { head, name: (classId) => dataset.classById(classId)?.name ?? "?", dataset };
}
