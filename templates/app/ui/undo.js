// After a delete, a few seconds to take it back.
import { byTestId } from "./dom.js";

export function mountUndo(root, { dispatch }) {
  const text = byTestId(root, "undo-text");
  const button = byTestId(root, "undo");
  button.addEventListener("click", () => dispatch("undo"));
  return (state, previous) => {
    if (state.undo === previous?.undo) return;
    root.hidden = !state.undo;
    text.textContent = state.undo?.text ?? "";
  };
}
