// The only code that touches the DOM: binds the views to the app and renders each new state.
import { CameraView } from "./camera.js";
import { ClassesView } from "./classes.js";
import { byTestId } from "./dom.js";
import { PredictionView } from "./prediction.js";
import { ProjectView } from "./project.js";
import { ThumbnailUrls } from "./thumbs.js";
import { TrainingView } from "./training.js";

export function bindPage(app) {
  const thumbnails = new ThumbnailUrls();
  const views = [
    new ClassesView(byTestId("classes"), app, thumbnails),
    new CameraView(app),
    new TrainingView(app),
    new PredictionView(app, thumbnails),
    new ProjectView(app),
  ];
  const message = byTestId("message");
  const status = byTestId("status");
  const backend = byTestId("backend");
  const busy = byTestId("busy");
  let previous = null;
  return (state) => {
    document.body.dataset.state = state.status;
    status.dataset.state = state.status;
    status.textContent = state.status;
    const { backend: chosen } = state;
    backend.textContent = chosen ? [chosen.text, chosen.where].filter(Boolean).join("; ") : "choosing…";
    backend.dataset.backend = state.backend?.name ?? "";
    backend.dataset.build = state.backend?.build ?? "";
    backend.dataset.threads = String(state.backend?.threads ?? "");
    backend.dataset.workers = String(state.backend?.workers ?? "");
    busy.textContent = state.busy ?? "";
    if (state.notice !== previous?.notice) {
      message.textContent = state.notice.text;
      message.dataset.kind = state.notice.kind;
    }
    for (const view of views) view.render(state, previous);
    previous = state;
  };
}
