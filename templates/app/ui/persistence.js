// The one-time hint that this browser may delete what the page keeps, next to Save project file.
export function mountPersistence(root) {
  return (state, previous) => {
    if (state.persistence === previous?.persistence) return;
    const { persisted, hint } = state.persistence;
    root.dataset.persisted = persisted === null ? "" : String(persisted);
    root.hidden = !hint;
    root.textContent = hint ?? "";
  };
}
