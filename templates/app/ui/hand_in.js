// "Hand in to your class", inside "Keep a copy in the cloud": the class code and the student's name,
// what is sent and to whom, the upload's progress and the outcome (features/hand_in.js).
import { byActions, showNotice } from "./messages.js";
import { byTestId, enable } from "./dom.js";

const HANDING_IN = byActions("handIn");

function whatIsSent(state) {
  const sent = "Your teacher sees your model, your name as typed and your training numbers.";
  const knn =
    state.headRecord?.model.kind === "knn"
      ? " For nearest neighbours the model is the list of numbers the base model computed from each example, not the pictures."
      : "";
  return `${sent}${knn} Your example images stay in this browser.`;
}

export function mountHandIn(root, { can, dispatch }) {
  const form = byTestId(root, "hand-in-form");
  const code = byTestId(root, "hand-in-code");
  const name = byTestId(root, "hand-in-name");
  const what = byTestId(root, "hand-in-what");
  const send = byTestId(root, "hand-in-send");
  const progress = byTestId(root, "hand-in-progress");
  const result = byTestId(root, "hand-in-result");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    dispatch("handIn", [{ code: code.value, name: name.value }]);
  });

  return (state, previous) => {
    if (state.notice !== previous?.notice) showNotice(result, state.notice, HANDING_IN);
    enable(send, can("handIn"));
    if (state.headRecord !== previous?.headRecord) what.textContent = whatIsSent(state);
    const { sending } = state.handIn;
    if (sending === previous?.handIn.sending) return;
    progress.hidden = !sending;
    if (sending) progress.value = sending.total ? sending.sent / sending.total : 0;
    send.textContent = sending ? "Sending…" : "Hand in";
  };
}
