// Whether this page's site is kept on this device, in the technical details.
const TEXT = {
  none: "",
  insecure: "Not saved on this device for offline use: that needs the page on https (or localhost).",
  saving: "Saving this page on this device for offline use…",
  saved: "Saved on this device: it opens without a network.",
};

export function mountOffline(root) {
  return (state, previous) => {
    if (state.offline === previous?.offline) return;
    root.dataset.state = state.offline;
    root.hidden = state.offline === "none";
    root.textContent = TEXT[state.offline];
  };
}
