// The camera and hold-to-record. This feature owns the stream and a video element of its own
// that frames are taken from, so recording and live prediction work whatever the page shows;
// views display `camera.stream`, and the page view mounts that video (iOS plays a camera stream
// only in a video that is in the document). Owns `camera` and `recordingClassId`.
import { TeachkitError, refusal } from "../core/errors.js";
import { classById, whenIdle, whenReady } from "../core/guards.js";
import { stopLive } from "./prediction.js";
import { sampleValue } from "../learning/values.js";
import { makeSample, saveSamples } from "../learning/sampling.js";

// Recorded frames waiting for their embedding; beyond this a slow device records fewer frames
// rather than piling up memory.
const RECORD_BACKLOG = 8;

// `camera.classId` is the class whose card shows the camera's picture (null: none yet).
export function initialState() {
  return { camera: { stream: null, devices: [], deviceId: null, classId: null }, recordingClassId: null };
}

// iOS Safari decides from the attributes, not the properties, whether a video may play inline
// and by itself; without them its frames stay black or frozen.
export function createVideo() {
  const video = document.createElement("video");
  for (const name of ["muted", "playsinline", "autoplay"]) video.setAttribute(name, "");
  video.muted = true; // the attribute alone only sets the default
  return video;
}

export function nextVideoFrame(video) {
  if (video.requestVideoFrameCallback)
    return new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

// A camera blocked by the host page's permissions policy fails like a visitor's "no", which
// would send the visitor looking for a setting they do not have.
function cameraProblem(error) {
  if (document.featurePolicy?.allowsFeature("camera") === false) {
    return 'This page is embedded without camera access: the host page must add allow="camera" to its iframe.';
  }
  if (error?.name === "NotAllowedError") {
    return (
      "The browser did not allow the camera for this page. To allow it, click the camera or lock icon " +
      "next to the address, set Camera to Allow, then try again."
    );
  }
  // WebKit answers a machine without any camera with an OverconstrainedError naming no constraint.
  const noCamera =
    error?.name === "NotFoundError" || (error?.name === "OverconstrainedError" && !error.constraint);
  if (noCamera) return "No camera was found on this device.";
  if (error?.name === "NotReadableError")
    return "The camera is in use by another program or tab; close it there and try again.";
  return `The camera could not be started: ${error?.message ?? error}`;
}

// Browsers offer no camera outside a secure context (`navigator.mediaDevices` is not there): on a
// school server on plain http the camera's controls say so, and what to do.
function cameraMissing() {
  if (navigator.mediaDevices?.getUserMedia) return null;
  if (globalThis.isSecureContext === false)
    return refusal(
      "camera",
      "The camera needs a secure page: open this page with https:// (or as localhost on this computer). Uploading images works here.",
    );
  return refusal("camera", "This browser offers no camera to web pages. Uploading images works.");
}

function releaseStream({ store }) {
  const { camera } = store.get();
  if (!camera.stream) return;
  camera.stream.getTracks().forEach((track) => track.stop());
  store.set({ camera: { ...camera, stream: null } });
}

async function startCamera(context, deviceId = null) {
  const { store, services } = context;
  releaseStream(context);
  const missing = cameraMissing(); // also for live prediction, which starts the camera
  if (missing) throw new TeachkitError(missing.code, missing.message);
  let stream;
  try {
    const video = deviceId ? { deviceId: { exact: deviceId } } : true;
    stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
  } catch (error) {
    throw new TeachkitError("camera", cameraProblem(error));
  }
  const devices = (await navigator.mediaDevices.enumerateDevices())
    .filter((device) => device.kind === "videoinput")
    .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `Camera ${index + 1}` }));
  const active = stream.getVideoTracks()[0]?.getSettings().deviceId ?? deviceId;
  services.video.srcObject = stream;
  services.video.play().catch(() => {});
  store.set({ camera: { ...store.get().camera, stream, devices, deviceId: active } });
}

// Resolves to the feature's video once it shows frames (starting the camera if needed).
export async function videoReady(context) {
  const { store, services } = context;
  if (!store.get().camera.stream) await startCamera(context, store.get().camera.deviceId);
  const video = services.video;
  while (store.get().camera.stream && video.readyState < 2) await nextVideoFrame(video);
  if (!store.get().camera.stream) throw new TeachkitError("camera", "The camera was stopped.");
  return video;
}

export const actions = {
  startCamera: {
    can: (state) => whenReady(state) ?? cameraMissing(),
    run: (context, deviceId = null) => startCamera(context, deviceId),
  },

  stopCamera: {
    can: () => null,
    run(context) {
      context.store.set({ recordingClassId: null });
      stopLive(context);
      releaseStream(context);
      context.services.video.srcObject = null;
    },
  },

  // Hold-to-record: adds frames at the project's rate until stopRecording, and resolves to the
  // number recorded. Frames are recorded only while the visitor can see them: with the camera
  // off, a press starts it and shows its picture in the card, and records nothing.
  startRecording: {
    can: (state) =>
      whenIdle(state) ??
      (state.recordingClassId ? refusal("busy", "Already recording.") : null) ??
      cameraMissing(),
    async run(context, classId) {
      const { store, services, project } = context;
      classById(store.get().dataset, classId);
      const { camera } = store.get();
      store.set({ camera: { ...camera, classId } });
      if (!camera.stream) {
        await startCamera(context, camera.deviceId);
        context.notify(
          "The camera is on. Check its picture in the card, then hold the button again to record.",
        );
        return 0;
      }
      store.set({ recordingClassId: classId });
      let video;
      try {
        video = await videoReady(context);
        // The picture just moved into this card: let it show a frame or two before recording.
        if (camera.classId !== classId) for (let i = 0; i < 2; i += 1) await nextVideoFrame(video);
      } catch (error) {
        store.set({ recordingClassId: null });
        throw error;
      }
      const value = sampleValue(store.get()); // one value for the whole press
      const interval = 1000 / project.capture.fps;
      const saveEvery = Math.max(1, Math.round(project.capture.fps / 2));
      const inFlight = new Set(); // samples whose embedding is still being computed
      let done = [];
      let total = 0;
      let failure = null;
      // Frames are taken on time while the workers embed earlier ones.
      const take = () => {
        const sample = makeSample(context, classId, video, value)
          .then((made) => done.push(made))
          .catch((error) => (failure ??= error))
          .finally(() => inFlight.delete(sample));
        inFlight.add(sample);
      };
      const saveDone = async () => {
        const ready = done;
        done = [];
        await saveSamples(context, ready);
        total += ready.length;
      };
      try {
        while (store.get().recordingClassId === classId && !failure) {
          const started = performance.now();
          if (services.embedder.backlog < RECORD_BACKLOG) take();
          if (done.length >= saveEvery) await saveDone();
          await sleep(Math.max(0, interval - (performance.now() - started)));
        }
        await Promise.all(inFlight);
        if (done.length) await saveDone();
      } finally {
        store.set({ recordingClassId: null });
      }
      const recorded = `Recorded ${total} frame${total === 1 ? "" : "s"}.`;
      if (failure) throw new TeachkitError("failed", `${recorded} Recording stopped: ${failure.message}`);
      context.notify(recorded);
      return total;
    },
  },

  stopRecording: {
    can: () => null,
    run({ store }) {
      if (store.get().recordingClassId) store.set({ recordingClassId: null });
    },
  },
};
