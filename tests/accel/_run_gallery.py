"""Runs gallery-style scripts one after the other in this process and prints, as JSON, what
each printed: ``python _run_gallery.py SPEC...`` where SPEC is ``path[:arg,arg...]``.
One process for all of them (a plain run and a ``python -m lepton.accel`` run) instead of one
per script: interpreter start-up and imports dominate these small scripts."""

import contextlib
import io
import json
import runpy
import sys

outputs = {}
for spec in sys.argv[1:]:
    path, _, args = spec.partition(":")
    sys.argv[:] = [path, *(a for a in args.split(",") if a)]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(path, run_name="__main__")
    outputs[spec] = buffer.getvalue()
print(json.dumps(outputs))
