"""ipcviz.serve: the app in a browser, for a projector or a class (textual-serve).

    ipcviz serve                    the lesson picker, on http://127.0.0.1:8000/
    ipcviz serve pipe/eof           every viewer opens on that lesson

Each browser connection gets its own app process and so its own isolated run; the number
of viewers is capped (--max-viewers).  See server.py for how, and for the bounded stop.
"""
