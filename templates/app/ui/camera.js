// The camera: start/stop, the camera picker (phones: choose the back camera) and the picture. The
// capture feature owns the stream; this view only shows it.
import { byTestId, el, enable } from "./dom.js";

export function mountCamera(root, { dispatch, can }) {
  const video = byTestId(root, "video");
  const toggle = byTestId(root, "camera-toggle");
  const picker = byTestId(root, "camera-select");
  let streaming = false;
  toggle.addEventListener("click", () => dispatch(streaming ? "stopCamera" : "startCamera"));
  picker.addEventListener("change", () => dispatch("startCamera", [picker.value]));

  return (state, previous) => {
    const { camera } = state;
    enable(toggle, streaming ? null : can("startCamera"));
    if (camera === previous?.camera) return;
    streaming = Boolean(camera.stream);
    if (video.srcObject !== camera.stream) video.srcObject = camera.stream;
    if (camera.stream) video.play().catch(() => {});
    video.hidden = !camera.stream;
    toggle.textContent = camera.stream ? "Stop camera" : "Start camera";
    toggle.setAttribute("aria-pressed", String(streaming));
    picker.replaceChildren(
      ...camera.devices.map((device) =>
        el("option", { value: device.deviceId, selected: device.deviceId === camera.deviceId }, device.label),
      ),
    );
    picker.closest("label").hidden = camera.devices.length < 2;
  };
}
