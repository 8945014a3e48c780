// Training through the public API, timed inside the page: the same settings and split as the
// Train button, without the click and the wait for the DOM.
async () => {
  const started = performance.now();
  const { history } = await window.teachkit.train();
  return { ms: performance.now() - started, epochs: history.length };
};
