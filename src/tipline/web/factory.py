"""Building the application from the environment, for servers that start several processes."""

from __future__ import annotations

import os

from fastapi import FastAPI

from tipline.config import load_settings
from tipline.instance import Instance
from tipline.web.app import create_app


def app_from_environment() -> FastAPI:
    run_worker = os.environ.get("TIPLINE_SERVE_PIPELINE", "1") != "0"
    return create_app(Instance(load_settings()), run_worker=run_worker)
