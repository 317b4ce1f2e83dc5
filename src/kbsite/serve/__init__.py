"""The preview server of ``kbsite serve``: the site's files over HTTP (uvicorn and
Starlette), the live-reload script and its events, and the watch-and-rebuild loop."""
