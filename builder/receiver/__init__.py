"""`teachkit receive`: the reference cloud receiver. Visitors of a teachkit page publish the model
they trained to it; it stores the upload in a folder or an S3-compatible bucket and answers a link
that anyone can open. Nothing of TensorFlow is imported here.

    settings.py    the command's options, checked
    store.py       the folder and S3 stores, content-addressed (blobs, refs, records)
    uploads.py     what an upload may be, judged whole before anything is stored
    classes.py     classes: their codes and tokens, hand-ins' names, the index of submissions
    tfjs.py        a TF.js model.json against its weights file
    limits.py      requests per minute per client, the body's size
    middleware.py  one log line per request, origins and CORS, JSON errors, the rate limit
    app.py         the routes (the HTTP API)
    server.py      the bound socket and uvicorn
"""

from .errors import ReceiverError
from .server import Receiver, open_receiver
from .settings import ReceiverSettings, make_settings

__all__ = ["Receiver", "ReceiverError", "ReceiverSettings", "make_settings", "open_receiver"]
