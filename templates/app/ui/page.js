// Mounts every view under its section of the page and renders each new state into them. Views
// only touch the DOM under their own root.
import { mountApproval } from "./approval.js";
import { mountCamera } from "./camera.js";
import { mountClasses } from "./classes.js";
import { mountCloudOpen, mountCloudPublish } from "./cloud.js";
import { mountHandIn } from "./hand_in.js";
import { mountImagenet } from "./imagenet.js";
import { mountOffline } from "./offline.js";
import { mountPersistence } from "./persistence.js";
import { byTestId } from "./dom.js";
import { showNotice } from "./messages.js";
import { mountEmbeddingMap } from "./embedding_map.js";
import { mountExplain, mountExplainHeatmap } from "./explain.js";
import { mountPrediction } from "./prediction.js";
import { mountProject } from "./project.js";
import { mountRegressionEvaluation } from "./regression.js";
import { mountSettings } from "./settings.js";
import { mountTestSet } from "./test_set.js";
import { mountTeacher, teacherMode } from "./teacher.js";
import { ThumbnailUrls } from "./thumbs.js";
import { mountTraining } from "./training.js";
import { mountUndo } from "./undo.js";
import { nextStep } from "./next_step.js";

// The page's TF.js backend; what runs the base model and how close its probe came to Python's; and
// why each faster runtime does not.
function backendText(chosen) {
  const { selfCheck } = chosen;
  const checked =
    selfCheck && `self-check passed (cosine ${selfCheck.cosine.toFixed(4)} ≥ ${selfCheck.floor})`;
  const notUsed = (chosen.skipped ?? []).map((rung) => `${rung.label}: ${rung.reason}`);
  return [chosen.text, chosen.where, checked, notUsed.length ? `not used: ${notUsed.join("; ")}` : null]
    .filter(Boolean)
    .join("; ");
}

function mountStatus(root) {
  const message = byTestId(root, "message");
  const next = byTestId(root, "next-step");
  const status = byTestId(root, "status");
  const backend = byTestId(root, "backend");
  const busy = byTestId(root, "busy");
  const pageMessage = byTestId(root, "page-message");
  return (state, previous) => {
    root.dataset.state = state.status;
    status.dataset.state = state.status;
    status.textContent = state.status;
    const step = nextStep(state);
    next.dataset.step = step.step;
    // A model that cannot load says why where everyone sees it, not only to screen readers.
    const headline = (step.step === "error" && state.loadProblem) || step.text;
    if (next.textContent !== headline) next.textContent = headline;
    const { backend: chosen } = state;
    backend.textContent = chosen ? backendText(chosen) : "choosing…";
    backend.dataset.backend = chosen?.name ?? "";
    backend.dataset.build = chosen?.build ?? "";
    backend.dataset.threads = String(chosen?.threads ?? "");
    backend.dataset.workers = String(chosen?.workers ?? "");
    backend.dataset.runtime = chosen?.runtime?.name ?? "";
    backend.dataset.runtimeBuild = chosen?.runtime?.build ?? "";
    busy.textContent = state.busy ?? "";
    if (state.notice !== previous?.notice) {
      // Announced once: politely for news, at once for errors.
      message.setAttribute("role", state.notice.kind === "error" ? "alert" : "status");
      message.textContent = state.notice.text;
      message.dataset.kind = state.notice.kind;
    }
    // A reaction that failed (feature_list.js) is no area's: it shows under the header.
    showNotice(pageMessage, state.notice, (notice) => Boolean(notice.reaction));
  };
}

// The capture feature's own video, which recording and live prediction read frames from: iOS
// plays a camera stream only in a video that is in the document and rendered, so it sits in every
// page mode (not `hidden`, which iOS would not render), too small to see; the cards and "Try it"
// show the camera to the visitor.
function mountCameraFrames(root, video) {
  video.className = "camera-frames";
  video.dataset.testid = "camera-frames";
  video.setAttribute("aria-hidden", "true");
  root.append(video);
}

// `app` is {store, can, dispatch, cameraVideo, teacher}; `root` holds the page's sections
// ([data-view=…]). With `teacher` (?teacher) the teacher's view replaces the teaching columns.
export function mountPage(root, { store, can, dispatch, cameraVideo, teacher = false }) {
  mountCameraFrames(root, cameraVideo);
  const view = (name) => root.querySelector(`[data-view="${name}"]`);
  const teaching = teacherMode(root, teacher);
  const thumbnails = new ThumbnailUrls();
  const seam = { state: store.get(), can, dispatch };
  // A view whose section the page leaves out (predict mode has no classes or training) is not mounted.
  const mounted = (name, mount, ...extra) => {
    const section = view(name);
    return section ? mount(section, seam, ...extra) : () => {};
  };
  const renders = [
    mountStatus(root),
    mounted("classes", mountClasses, thumbnails),
    mounted("camera", mountCamera),
    mounted("settings", mountSettings),
    mounted("training", mountTraining),
    mounted("regression-evaluation", mountRegressionEvaluation),
    mounted("prediction", mountPrediction, thumbnails),
    mounted("explain-heatmap", mountExplainHeatmap),
    mounted("explain", mountExplain),
    mounted("embedding-map", mountEmbeddingMap, thumbnails),
    mounted("project", mountProject),
    mounted("cloud-publish", mountCloudPublish),
    mounted("cloud-open", mountCloudOpen),
    mounted("hand-in", mountHandIn),
    mounted("imagenet", mountImagenet),
    mounted("approval", mountApproval),
    mounted("undo", mountUndo),
    mounted("test-set", mountTestSet),
    teaching ? mounted("teacher", mountTeacher) : () => {},
    mounted("offline", mountOffline),
    mounted("persistence", mountPersistence),
  ];
  const render = (state, previous) => {
    for (const renderView of renders) renderView(state, previous);
  };
  render(store.get(), null);
  store.subscribe(render);
}
