// True once the page has shown a "Recorded …" notice (as the API's `notice` event, noted by
// init.js) after the first `seen` notices, and no class is recording any more.
(seen) => {
  const notices = window.__bench.notices.slice(seen);
  const recorded = notices.some(([, text]) => text.startsWith("Recorded"));
  return recorded && window.teachkit.status().recording === null;
};
