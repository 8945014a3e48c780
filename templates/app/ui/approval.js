// The visitor's answer to a host page that asks for their images: a dialog naming the host.
import { byTestId } from "./dom.js";

export function mountApproval(root, { dispatch }) {
  const text = byTestId(root, "approval-text");
  const allow = byTestId(root, "approval-allow");
  const deny = byTestId(root, "approval-deny");
  let shown = null;
  allow.addEventListener("click", () => dispatch("answerApproval", [shown.id, true]));
  deny.addEventListener("click", () => dispatch("answerApproval", [shown.id, false]));
  root.addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape answers Deny rather than leaving the request open
    dispatch("answerApproval", [shown.id, false]);
  });

  return (state) => {
    if (state.approval === shown) return;
    shown = state.approval;
    if (!shown) {
      if (root.open) root.close();
      return;
    }
    text.textContent = `The page around this one (${shown.origin}) asks to ${shown.what}. Allow it?`;
    if (!root.open) root.showModal();
    deny.focus();
  };
}
