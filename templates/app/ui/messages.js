// A notice is shown next to the controls that caused it: each area lists the actions it owns and
// shows the latest notice if one of them caused it. An older notice goes as soon as a newer one
// (from anywhere) arrives, so nothing stale stays on screen. Every notice is also announced once,
// in the page's one live region.

export function showNotice(element, notice, owns) {
  const mine = notice && owns(notice);
  element.hidden = !mine;
  if (!mine) return;
  if (element.textContent !== notice.text) element.textContent = notice.text;
  element.dataset.kind = notice.kind;
}

export function byActions(...names) {
  return (notice) => names.includes(notice.action);
}
