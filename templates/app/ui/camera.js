// The camera's switch and picker (phones: choose the back camera). The capture feature owns the
// stream; the cards and the "Try it" column show its picture.
import { byTestId, el, enable } from "./dom.js";

export function mountCamera(root, { can, dispatch }) {
  const toggle = byTestId(root, "camera-toggle");
  const picker = byTestId(root, "camera-select");
  // Why there is no camera at all (a page on plain http), in words, not only in a tooltip.
  const missing = el("span", { class: "hint", dataset: { testid: "camera-missing" }, hidden: true });
  root.append(missing);
  let streaming = false;
  toggle.addEventListener("click", () => dispatch(streaming ? "stopCamera" : "startCamera"));
  picker.addEventListener("change", () => dispatch("startCamera", [picker.value]));

  return (state, previous) => {
    const { camera } = state;
    const refused = streaming ? null : can("startCamera");
    enable(toggle, refused);
    missing.hidden = refused?.code !== "camera";
    missing.textContent = missing.hidden ? "" : refused.message;
    if (camera === previous?.camera) return;
    streaming = Boolean(camera.stream);
    toggle.textContent = streaming ? "Stop camera" : "Start camera";
    toggle.setAttribute("aria-pressed", String(streaming));
    picker.replaceChildren(
      ...camera.devices.map((device) =>
        el("option", { value: device.deviceId, selected: device.deviceId === camera.deviceId }, device.label),
      ),
    );
    picker.closest("label").hidden = camera.devices.length < 2;
  };
}
