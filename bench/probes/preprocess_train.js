// Adds `count` crops of the photo at `url` to each class through the API, then trains.
async ({ url, classes, count }) => {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  for (const [index, name] of classes.entries()) {
    const images = [];
    for (let i = 0; i < count; i += 1) {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 256;
      const context = canvas.getContext("2d");
      context.filter = `brightness(${0.8 + 0.04 * i})`;
      const side = bitmap.height / (2 + index);
      context.drawImage(bitmap, 20 * i + index * side, 0, side, side, 0, 0, 256, 256);
      images.push(canvas);
    }
    await window.teachkit.addImages(name, images);
  }
  await window.teachkit.train();
};
