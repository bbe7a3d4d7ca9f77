"""The HTTP application: routers per audience, templates, static files, OpenAPI, and the worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import tipline
from tipline.instance import Instance
from tipline.pipeline.engine.backend import connect_job_backend
from tipline.store.schema import require_current
from tipline.web import filters, i18n
from tipline.web.auth import LoginThrottle, assert_every_route_has_policy
from tipline.web.decoding import DecodeBudget
from tipline.web.errors import install_error_handlers, unexpected_error
from tipline.web.middleware import (
    BodyLimitMiddleware,
    HeaderLimitMiddleware,
    NulRefusalMiddleware,
    SecurityMiddleware,
)
from tipline.web.params import assert_every_integer_bounded
from tipline.web.public_form.hotline import profile_for
from tipline.web.routes import (
    admin_pages,
    agency_notifications,
    agency_portal,
    agency_reading,
    api_conversations,
    api_reports,
    auth_pages,
    exchanges,
    follow_up_pages,
    forwarding_pages,
    hma,
    ispws,
    meta,
    previews,
    public_additions,
    public_follow_up,
    public_form,
    public_help,
    public_receipt,
    referral_pages,
    review_pages,
    search_pages,
    series_api,
    series_pages,
    settings_pages,
    staff_pages,
    supervisor_pages,
    takedown_pages,
    trends_pages,
    viewer_pages,
)

HERE = Path(__file__).parent
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"
PUBLIC_MOUNTS = {"/static", "/static/swagger"}
# Prefixes that get max_upload_bytes instead of max_body_bytes. "/report" is the public form, which
# enforces its own, smaller limits while the body streams. BodyLimitMiddleware matches prefixes, so
# "/report" also lifts the limit of "/reports/..." routes: matching whole path segments there
# (path == p or path.startswith(p + "/")) would confine it to the form.
UPLOAD_PATHS = ("/ispws/upload", "/api/v1/uploads", "/report")

log = logging.getLogger("tipline.web")


def create_app(instance: Instance, *, run_worker: bool = True) -> FastAPI:
    """Build the application for an instance. With run_worker, the embedded pipeline worker runs
    inside the server process (the default embedded mode)."""
    require_current(instance.db)
    connect_job_backend(instance)  # the web application is an entry point: it connects the configured backend
    worker = None
    if run_worker and instance.settings.job_backend == "inprocess":
        from tipline.pipeline.engine.inprocess import InProcessWorker

        worker = InProcessWorker(instance)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Audit events are chained by a thread of their own, so a request does not wait for it.
        instance.audit_sealer.start()
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            _app.state.decode_budget.close()
            instance.audit_sealer.stop()

    app = FastAPI(
        title="tipline",
        version=tipline.__version__,
        description=(
            "APIs of a tipline hotline. Service providers file reports with HTTP Basic credentials "
            "(`tipline esp add`); staff read them with their login. Every read of report content is audited."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.instance = instance
    app.state.worker = worker
    app.state.login_throttle = LoginThrottle(instance.db, instance.audit)
    app.state.decode_budget = DecodeBudget(instance.settings.decode_concurrency, instance.settings.decode_max_pixels)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.globals["current_language"] = i18n.current
    filters.install(templates.env)
    templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    profile_for(instance.settings.extra)  # a hotline file that cannot be used stops start-up, with its reason
    app.state.templates = templates

    install_error_handlers(app)
    # Routes are matched in this order: the busiest (service providers' intake) first, so each of
    # their requests is not first compared with every page's route.
    for module in (ispws, api_reports, meta, auth_pages, staff_pages, review_pages, previews, viewer_pages,
                   supervisor_pages,
                   search_pages, settings_pages, referral_pages, agency_portal, agency_reading, admin_pages,
                   api_conversations, hma, exchanges, series_pages, series_api, agency_notifications, follow_up_pages,
                   forwarding_pages, takedown_pages,
                   public_form, public_additions, public_follow_up, public_help, public_receipt, trends_pages):
        app.include_router(module.router)
    app.mount("/static/swagger", StaticFiles(directory=str(SWAGGER_UI)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    assert_every_route_has_policy(app.routes, PUBLIC_MOUNTS)
    assert_every_integer_bounded(app.routes)

    app.add_middleware(NulRefusalMiddleware)  # innermost: reads a url-encoded form within the body limit
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=instance.settings.max_body_bytes,
        upload_limit=instance.settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    app.add_middleware(HeaderLimitMiddleware, max_headers=instance.settings.max_headers,
                       max_bytes=instance.settings.max_header_bytes)
    app.add_middleware(SecurityMiddleware, on_error=unexpected_error)
    return app
