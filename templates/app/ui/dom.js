// Small DOM helpers for the views. Text always goes in through textContent; every lookup is
// scoped to a view's own root.

export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

// el("button", {class: "x", dataset: {testid: "y"}, onclick}, "text" | Node, …)
export function el(tag, properties = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(properties)) {
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// A number for the data-* hooks of the automation contract: full precision, or "" when there is none.
export function hook(value) {
  return value === null || value === undefined ? "" : String(value);
}

// Hands `text` to the browser as a download named `name` (a link under `root`, clicked once).
export function downloadText(root, text, name, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name, hidden: true });
  root.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

// A button that opens a hidden file input. `onFiles(files)` hears what was chosen (never an empty
// list); the input is cleared, so choosing the same file again is heard too.
export function chooseFiles(button, input, onFiles) {
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = Array.from(input.files);
    input.value = "";
    if (files.length) onFiles(files);
  });
}

// A control that may not act now is disabled, with the reason as its tooltip.
export function enable(control, refusal) {
  control.disabled = Boolean(refusal);
  if (refusal) control.title = refusal.message;
  else control.removeAttribute("title");
}

// Whether any of `keys` of the state differ from the previous render's (always on the first).
export function changed(state, previous, keys) {
  return !previous || keys.some((key) => state[key] !== previous[key]);
}

// A CSS custom property of the page's theme (e.g. "--primary"), for what draws on a canvas.
export function cssColor(root, name, fallback) {
  return getComputedStyle(root).getPropertyValue(name).trim() || fallback;
}
