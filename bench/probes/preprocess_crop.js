// Crops `url`'s image with each cropper in alternating blocks, each call on a freshly decoded copy
// (as every upload is: the engine's scaler may keep what it computed for an image it has shrunk
// before) and in a task of its own (a timer, so the trace can time it); returns the order of the
// calls and each cropper's pixels (RGB).
async ({ url, runs, block }) => {
  const blob = await (await fetch(url)).blob();
  const names = ["new", "old", "read"];
  const pixels = {};
  for (const name of names) {
    const bitmap = await createImageBitmap(blob);
    const rgba = window.croppers[name].crop(bitmap).data;
    pixels[name] = Array.from(rgba.filter((_, index) => index % 4 !== 3));
    bitmap.close();
  }
  const order = [];
  for (let done = 0; done < runs; done += block) {
    for (const name of names) {
      for (let i = 0; i < block; i += 1) {
        const bitmap = await createImageBitmap(blob);
        await new Promise((resolve) => setTimeout(() => resolve(window.croppers[name].crop(bitmap)), 0));
        bitmap.close();
        order.push(name);
      }
    }
  }
  return { order, pixels };
};
