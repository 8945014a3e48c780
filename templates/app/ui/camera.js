// The shared webcam: start/stop, the camera picker (phones: choose the back camera) and the video.
import { byTestId, el } from "./dom.js";

export class CameraView {
  constructor(app) {
    this.video = byTestId("video");
    this.toggle = byTestId("camera-toggle");
    this.picker = byTestId("camera-select");
    app.setVideo(this.video);
    this.toggle.addEventListener("click", () =>
      app.state.camera.stream ? app.stopCamera() : app.startCamera(),
    );
    this.picker.addEventListener("change", () => app.startCamera(this.picker.value));
  }

  render(state, previous) {
    const { camera } = state;
    this.toggle.disabled = state.status !== "ready";
    if (camera === previous?.camera) return;
    if (this.video.srcObject !== camera.stream) this.video.srcObject = camera.stream;
    if (camera.stream) this.video.play().catch(() => {});
    this.video.hidden = !camera.stream;
    this.toggle.textContent = camera.stream ? "Stop camera" : "Start camera";
    this.toggle.setAttribute("aria-pressed", String(Boolean(camera.stream)));
    this.picker.replaceChildren(
      ...camera.devices.map((device) =>
        el("option", { value: device.deviceId, selected: device.deviceId === camera.deviceId }, device.label),
      ),
    );
    this.picker.closest("label").hidden = camera.devices.length < 2;
  }
}
