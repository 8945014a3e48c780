// ms per teachkit.embed(bitmap), one at a time, for each image (decoded once, as an upload is), in
// alternating blocks.
async ({ urls, runs, block }) => {
  const bitmaps = [];
  for (const url of urls) bitmaps.push(await createImageBitmap(await (await fetch(url)).blob()));
  for (const bitmap of bitmaps) await window.teachkit.embed(bitmap);
  const times = bitmaps.map(() => []);
  for (let done = 0; done < runs; done += block) {
    for (const [index, bitmap] of bitmaps.entries()) {
      for (let i = 0; i < block; i += 1) {
        const started = performance.now();
        await window.teachkit.embed(bitmap);
        times[index].push(performance.now() - started);
      }
    }
  }
  bitmaps.forEach((bitmap) => bitmap.close());
  return times;
};
