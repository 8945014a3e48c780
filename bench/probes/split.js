// The page's own embeddings and split (heldOut: what the current settings hold back for
// validation, the split training uses); the class index is the class's position in classes().
() => {
  const api = window.teachkit;
  const names = api.classes().map((item) => item.name);
  const rows = { training: { x: [], y: [] }, validation: { x: [], y: [] } };
  for (const sample of api.samples()) {
    const part = sample.heldOut ? rows.validation : rows.training;
    part.x.push(Array.from(sample.embedding));
    part.y.push(names.indexOf(sample.className));
  }
  return rows;
};
