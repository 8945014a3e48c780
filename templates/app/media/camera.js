// The camera: its stream and a video element of its own that frames are taken from, so recording
// and live prediction work whatever the page shows (views display `camera.stream`; the page view
// mounts the video, since iOS plays a camera stream only in a video that is in the document).
// Keeps `camera` in the store, which the capture feature declares; `services.video` is the video.
import { TeachkitError, refusal } from "../core/errors.js";

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
export function cameraMissing() {
  if (navigator.mediaDevices?.getUserMedia) return null;
  if (globalThis.isSecureContext === false)
    return refusal(
      "camera",
      "The camera needs a secure page: open this page with https:// (or as localhost on this computer). Uploading images works here.",
    );
  return refusal("camera", "This browser offers no camera to web pages. Uploading images works.");
}

export function releaseStream({ store }) {
  const { camera } = store.get();
  if (!camera.stream) return;
  camera.stream.getTracks().forEach((track) => track.stop());
  store.set({ camera: { ...camera, stream: null } });
}

export async function startCamera(context, deviceId = null) {
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

// Resolves to the camera's video once it shows frames (starting the camera if needed).
export async function videoReady(context) {
  const { store, services } = context;
  if (!store.get().camera.stream) await startCamera(context, store.get().camera.deviceId);
  const video = services.video;
  while (store.get().camera.stream && video.readyState < 2) await nextVideoFrame(video);
  if (!store.get().camera.stream) throw new TeachkitError("camera", "The camera was stopped.");
  return video;
}
