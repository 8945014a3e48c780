"""The page benchmark (bench/page.py runs it), one measurement per module: embedding, upload,
training, camera (recording, live prediction, blocking), startup, memory; harness (the browser, a
tab with the in-page recorder, waiting, timing), inputs (the site, photos, the plan), report (the
table's rows, each declared once). The page-side programs are bench/probes/*.js."""
