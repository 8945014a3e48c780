// Object URLs for sample thumbnails, created once per sample and revoked when it is gone.
export class ThumbnailUrls {
  constructor() {
    this.urls = new Map();
  }

  url(sample) {
    if (!this.urls.has(sample.id)) this.urls.set(sample.id, URL.createObjectURL(sample.thumb));
    return this.urls.get(sample.id);
  }

  keepOnly(samples) {
    const alive = new Set(samples.map((sample) => sample.id));
    for (const [id, url] of this.urls) {
      if (!alive.has(id)) {
        URL.revokeObjectURL(url);
        this.urls.delete(id);
      }
    }
  }
}
