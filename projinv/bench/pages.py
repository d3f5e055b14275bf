"""Server time and query count of the heavy pages, on the database the rounds have filled.

Requests go through Django's WSGI handler, the way a WSGI server calls it (all middleware, the
view, the template rendered and the body read), with a logged-in session cookie. Timing runs
capture nothing; one more request per page counts the queries on both databases. "Constant"
means the same count for a small and a large object of the same page (an invoice of 100
details and one of 10,000) and, in the report, the same count at 1/10 and at full scale.
"""

import io
import sys
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from dataverse import models as dv

from .record import BenchError, Recorder
from .timing import percentile, stopwatch
from .world import World

WARM_UP = 2


def session_cookie(user) -> str:
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class Browser:
    def __init__(self, user):
        self.handler = WSGIHandler()
        self.cookie = session_cookie(user)

    def get(self, url: str) -> int:
        path, _sep, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost", "HTTP_COOKIE": self.cookie, "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        status = []
        response = self.handler(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            b"".join(response)
        finally:
            response.close()  # request_finished: what a WSGI server triggers after the body
        code = int(status[0].split()[0])
        if code != 200:
            raise BenchError(f"GET {url} answered {status[0]}")
        return code

    def queries(self, url: str) -> int:
        with CaptureQueriesContext(connections["default"]) as dataverse, \
                CaptureQueriesContext(connections["finance"]) as finance:
            self.get(url)
        return len(dataverse) + len(finance)


def _url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def measure(w: World, rec: Recorder, *, pages: dict[str, tuple[str | None, str | None]],
            requests: int = 20) -> None:
    """`pages`: page key -> (url of the large case, url of a small case to compare queries with).
    A page whose URL does not exist is recorded as not built yet."""
    browser = Browser(w.user)
    actuals = dv.Actual.objects.count()
    for key, (url, small_url) in pages.items():
        stage = rec.stage(f"page_{key}")
        stage.rows = actuals
        if url is None:
            stage.extra["not_built"] = True
            continue
        for _ in range(WARM_UP):
            browser.get(url)
        for _ in range(requests):  # with 20, p95 is the 19th fastest
            with stopwatch() as elapsed:
                browser.get(url)
            stage.app.append(elapsed())
        stage.extra.update(url=url, p95_s=percentile(stage.app, 95), queries=browser.queries(url))
        if small_url:
            browser.get(small_url)
            stage.extra.update(small_url=small_url, queries_small=browser.queries(small_url))
        rec.save()


def page_urls(*, big_invoice: int, small_invoice: int, big_proposal: int,
              small_proposal: int | None) -> dict[str, tuple[str | None, str | None]]:
    return {
        # A filter adds its own lookup query, so the backlog is compared with itself at 1/10 scale.
        "backlog": (_url("dataverse:backlog"), None),
        "invoice_detail": (_url("dataverse:invoice_detail", big_invoice),
                           _url("dataverse:invoice_detail", small_invoice)),
        "proposal_detail": (_url("finance:proposal_detail", big_proposal),
                            _url("finance:proposal_detail", small_proposal)),
        "reconciliation": (_url("dualwrite:reconciliation"), None),
    }
